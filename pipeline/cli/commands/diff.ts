/**
 * `params diff A B` and `metrics diff A B`: tables of what differs between two configs or experiments.
 *
 * @module
 */
import type { Command } from "commander";
import { loadPipeline } from "../../config/config.ts";
import { resolveTarget } from "../../config/experiments.ts";
import { UsageError } from "../../config/usage_error.ts";
import { type LockFile, readLock } from "../../store/lockfile.ts";
import { diffTable } from "../diff_table.ts";
import { layoutFrom } from "../options.ts";

/** Adds the command to the program. */
export function registerDiff(root: Command): void {
  const diffHelp = "A and B are config files or experiment names";
  const params = root.command("params").description("compare params");
  params.command("diff")
    .description(`table of the stage params that differ between A and B (${diffHelp})`)
    .argument("<a>").argument("<b>")
    .action(async (a: string, b: string, _opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const values = await Promise.all([a, b].map(async (arg) => {
        const t = await resolveTarget(layout, arg);
        const p = await loadPipeline(t.config, {
          sets: t.sets,
          stagesRoot: layout.stages,
          cache: layout,
        });
        return Object.fromEntries(p.stages.map((s) => [s.name, s.params]));
      }));
      console.log(diffTable(values[0], values[1], [a, b]));
    });

  const metrics = root.command("metrics").description("compare metrics");
  metrics.command("diff")
    .description(
      `table of the metrics.json values that differ between the last runs of A and B (${diffHelp})`,
    )
    .argument("<a>").argument("<b>")
    .action(async (a: string, b: string, _opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const values = await Promise.all([a, b].map(async (arg) => {
        const t = await resolveTarget(layout, arg);
        const lock = await readLock(t.lock);
        if (!lock) throw new UsageError(`${arg} has no results yet (no ${t.lock}); run it first`);
        return metricsOf(lock);
      }));
      console.log(diffTable(values[0], values[1], [a, b]));
    });
}

/** `{stage: metrics}` for every stage of a lock that recorded metrics. */
function metricsOf(lock: LockFile): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(lock.stages).filter(([, s]) => s.metrics !== undefined).map((
      [n, s],
    ) => [n, s.metrics]),
  );
}
