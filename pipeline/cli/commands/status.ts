/**
 * `status [config|experiment]`: each stage up to date or stale and why (`--json` too).
 *
 * @module
 */
import type { Command } from "commander";
import { loadPipeline } from "../../config/config.ts";
import { projectRelative, resolveTarget } from "../../config/experiments.ts";
import { planPipeline } from "../../rebuilder/plan.ts";
import { readLock } from "../../store/lockfile.ts";
import { collect, DEFAULT_CONFIG, layoutFrom } from "../options.ts";
import { planJson, planText } from "../plan_view.ts";

/** Adds the command to the program. */
export function registerStatus(root: Command): void {
  root.command("status")
    .description("say for each stage whether it is up to date or stale, and exactly why")
    .argument("[config]", "config file or experiment name", DEFAULT_CONFIG)
    .option("--set <key=value>", "as for run (repeatable)", collect, [])
    .option("--json", "print the verdicts and typed reasons as JSON on stdout")
    .action(async (config: string, opts: { set: string[]; json?: boolean }, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const target = await resolveTarget(layout, config);
      const p = await loadPipeline(target.config, {
        sets: [...target.sets, ...opts.set],
        stagesRoot: layout.stages,
        cache: layout,
      });
      const plans = await planPipeline({ pipeline: p, layout, lock: await readLock(target.lock) });
      if (opts.json) {
        console.log(JSON.stringify(planJson(plans, projectRelative(layout, p.path)), null, 2));
        return;
      }
      for (const line of planText(plans, "status")) console.log(line);
      const stale = plans.filter((x) => x.freshness.state === "stale").length;
      console.log(`${plans.length - stale} up to date, ${stale} stale`);
    });
}
