/**
 * `params diff A B …` and `metrics diff A B …`: what differs between two or more configs or
 * experiments, against the first one. Metrics: headline first; per-class and usage rows only
 * with `--all`, timings only with `--timings`, params a stage echoes into its metrics never.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../../config/usage_error.ts";
import { baseConfigNote, loadCompared, metricClasses } from "../compare.ts";
import { differing, diffJson, type DiffRow, diffTable } from "../diff_table.ts";
import { orderMetrics } from "../metric_keys.ts";
import { layoutFrom, positiveInt } from "../options.ts";
import type { TableFormat } from "../table_text.ts";

/** Output options of both commands. */
interface DiffOptions {
  json?: boolean;
  md?: boolean;
  precision: number;
  all?: boolean;
  timings?: boolean;
}

function outputOptions(cmd: Command): Command {
  return cmd
    .argument(
      "<targets...>",
      "two or more config files or experiment names; the first is the reference",
    )
    .option("--json", "machine-readable, full precision")
    .option("--md", "a Markdown table")
    .option("--precision <n>", "significant digits of numbers", positiveInt, 4);
}

function print(labels: string[], rows: DiffRow[], opts: DiffOptions, note?: string): void {
  if (opts.json) {
    console.log(JSON.stringify(diffJson({ labels, rows, note }), null, 2));
    return;
  }
  const format: TableFormat = opts.md ? "md" : "text";
  if (note) console.log(note);
  console.log(diffTable({ labels, rows, format, precision: opts.precision }));
}

function checkCount(targets: string[]): void {
  if (targets.length < 2) {
    throw new UsageError(
      `diff needs two or more configs or experiments to compare, got ${targets.length}`,
    );
  }
}

/** Adds the command to the program. */
export function registerDiff(root: Command): void {
  const params = root.command("params").description("compare params");
  outputOptions(
    params.command("diff").description("the stage params that differ, against the first target"),
  ).action(async (targets: string[], opts: DiffOptions, cmd: Command) => {
    checkCount(targets);
    const rows = await loadCompared(layoutFrom(cmd), targets);
    const keys = [...new Set(rows.flatMap((r) => [...r.params.keys()]))];
    const diff = differing(
      keys.map((key) => ({ key, values: rows.map((r) => r.params.get(key)) })),
    );
    print(targets, diff, opts, baseConfigNote(rows));
  });

  const metrics = root.command("metrics").description("compare metrics");
  outputOptions(
    metrics.command("diff").description(
      "the metrics that differ between the last runs, headline first, against the first target",
    ),
  )
    .option("--all", "also per-class and component-usage rows")
    .option("--timings", "also timings (e.g. train_seconds)")
    .action(async (targets: string[], opts: DiffOptions, cmd: Command) => {
      checkCount(targets);
      const rows = await loadCompared(layoutFrom(cmd), targets);
      const missing = rows.find((r) => !r.lock);
      if (missing) {
        throw new UsageError(`${missing.name} has no complete run yet; run it first`);
      }
      const classes = metricClasses(rows);
      const shown = [...classes.keys()].filter((k) => {
        const c = classes.get(k);
        return c === "headline" || c === "metric" || (c === "detail" && opts.all) ||
          (c === "timing" && opts.timings);
      });
      const diff = differing(
        orderMetrics(shown, classes).map((key) => ({
          key,
          values: rows.map((r) => r.metrics.get(key)),
        })),
      );
      print(targets, diff, opts, baseConfigNote(rows));
    });
}
