/**
 * `exp run`, `exp list`, `exp remove`, `exp show`, `exp plot`: named experiments and sweeps.
 *
 * @module
 */
import type { Command } from "commander";
import {
  experimentPaths,
  listExperimentRecords,
  listExperiments,
  readExperiment,
  removeExperiment,
} from "../../config/experiments.ts";
import { UsageError } from "../../config/usage_error.ts";
import { readLock } from "../../store/lockfile.ts";
import { loadCompared, showNames } from "../compare.ts";
import { showJson, showTable, showText } from "../exp_show.ts";
import {
  checkForceArg,
  collect,
  type ExecOptions,
  execOptions,
  layoutFrom,
  positiveInt,
} from "../options.ts";

/** Options of `exp show`. */
interface ShowCliOptions {
  all?: boolean;
  sort?: string;
  json?: boolean;
  md?: boolean;
  csv?: boolean;
  html?: boolean;
  output?: string;
  precision: number;
}

/** Adds the command to the program. */
export function registerExp(root: Command): void {
  const exp = root.command("exp").description(
    "named experiments and sweeps: config variants kept side by side",
  );
  execOptions(
    exp.command("run")
      .description(
        "run a config with --set overrides as experiment NAME (outputs in artifacts/out/NAME); " +
          "--sweep runs one experiment per combination, NAME-<values>, at once; " +
          "NAME alone reruns it with its recorded config and overrides",
      )
      .argument("<name>", "experiment (or sweep) name, e.g. k20")
      .argument("[config]", "base config file (default: configs/paper.yaml)"),
  )
    .option(
      "--sweep <key=v1,v2>",
      "sweep a key over values (or a YAML list, key=[v1, v2]); repeatable: the grid of all",
      collect,
      [],
    )
    .action(
      async (
        name: string,
        config: string | undefined,
        opts: ExecOptions & { sweep: string[] },
        cmd: Command,
      ) => {
        checkForceArg(opts.force);
        // Loaded here: it loads the YAML parser (for --sweep), which other commands do without.
        const { expRun } = await import("../exp_run.ts");
        Deno.exitCode = await expRun(layoutFrom(cmd), {
          name,
          config,
          sweeps: opts.sweep,
          cli: opts,
        });
      },
    );

  exp.command("list")
    .description("list experiments with their base config and overrides")
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const { experiments: exps, bad } = await listExperimentRecords(layout);
      for (const b of bad) console.error(`error: ${b.message}`);
      if (bad.length) Deno.exitCode = 1;
      else if (!exps.length) {
        console.log("no experiments (create one with `exp run NAME --set …`)");
      }
      for (const e of exps) {
        const done = await readLock(experimentPaths(layout, e.name).lock)
          ? ""
          : "  (no complete run)";
        console.log(
          `${e.name}  ${e.config}  ${e.sets.join(" ") || "(no overrides)"}  ${e.created}${done}`,
        );
      }
    });

  exp.command("remove")
    .description("remove experiments and their out/ folders (cached objects go at the next gc)")
    .argument("<names...>", "experiment names")
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      for (const n of names) {
        if (!await readExperiment(layout, n)) {
          const known = (await listExperiments(layout)).map((e) => e.name);
          throw new UsageError(
            `no experiment named "${n}"` +
              (known.length ? ` (experiments: ${known.join(", ")})` : " (none yet)"),
          );
        }
      }
      for (const n of names) {
        await removeExperiment(layout, n);
        console.log(`removed experiment ${n}`);
      }
    });

  exp.command("show")
    .description(
      "one table of experiments (and their base configs): the params that differ, the headline " +
        "metrics, the status",
    )
    .argument("[names...]", "experiments or sweep names (default: all)")
    .option("--all", "every experiment, and every metric (not only the headline)")
    .option("--sort <column>", "sort by a metric or param column, ascending")
    .option("--json", "machine-readable, full precision")
    .option("--md", "a Markdown table")
    .option("--csv", "CSV")
    .option("--html", "a self-contained HTML page (sortable table, curves, figures)")
    .option("-o, --output <file>", "where --html writes (default: artifacts/experiments.html)")
    .option("--precision <n>", "significant digits of numbers", positiveInt, 4)
    .action(async (names: string[], opts: ShowCliOptions, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const compared = await loadCompared(layout, await showNames(layout, names));
      const table = showTable(compared, { sort: opts.sort, all: opts.all });
      if (opts.html) {
        // loaded on demand: the renderer (vega, resvg) stays out of the CLI's start-up
        const { writeExperimentsPage } = await import("../exp_html.ts");
        const path = await writeExperimentsPage(layout, table, {
          output: opts.output,
          precision: opts.precision,
        });
        console.log(`wrote ${path}`);
      } else if (opts.json) console.log(JSON.stringify(showJson(table), null, 2));
      else {
        const format = opts.md ? "md" : opts.csv ? "csv" : "text";
        console.log(showText(table, format, opts.precision));
      }
    });

  exp.command("plot")
    .description(
      "training curves (test MSE per epoch) of experiments overlaid, and their final test MSE " +
        "as bars; PNG and SVG",
    )
    .argument("<names...>", "experiments, sweep names or configs")
    .option("-o, --output <file>", "output path; .png and .svg are both written", undefined)
    .action(async (names: string[], opts: { output?: string }, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const expanded = await showNames(layout, names, { withConfigs: false });
      const { writeExperimentPlot } = await import("../exp_plot.ts");
      const written = await writeExperimentPlot(layout, expanded, opts.output);
      console.log(`wrote ${written.png} and ${written.svg}`);
      if (written.missing.length) {
        console.error(
          `note: not drawn (training history not in this cache): ${written.missing.join(", ")}`,
        );
      }
    });
}
