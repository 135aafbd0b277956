/**
 * `status [config|experiment]`: each stage up to date or stale and why (`--json` too);
 * `--quiet` prints nothing and exits 1 when anything is stale (0 when all is up to date).
 *
 * @module
 */
import type { Command } from "commander";
import { loadPipeline } from "../../config/config.ts";
import { projectRelative, resolveTarget } from "../../config/experiments.ts";
import { planPipeline } from "../../rebuilder/plan.ts";
import { readLock } from "../../store/lockfile.ts";
import { collect, DEFAULT_CONFIG, layoutFrom } from "../options.ts";
import { currentLockPath } from "../lock_travel.ts";
import { onRemoteOnly, planJson, planText, staleCount } from "../plan_view.ts";
import { remoteFor, remoteOptions } from "../remote_options.ts";
import type { RemoteFlags } from "../../config/remote.ts";

/** The options of `status`. */
interface StatusOptions extends RemoteFlags {
  set: string[];
  json?: boolean;
  quiet?: boolean;
}

/** Adds the command to the program. */
export function registerStatus(root: Command): void {
  remoteOptions(root.command("status"))
    .description("say for each stage whether it is up to date or stale, and exactly why")
    .argument("[config]", "config file or experiment name", DEFAULT_CONFIG)
    .option("-S, --set <key=value>", "as for run (repeatable)", collect, [])
    .option("--json", "print the verdicts and typed reasons as JSON on stdout")
    .option("-q, --quiet", "print nothing; exit 1 when any stage is stale, 0 when none is")
    .action(async (config: string, opts: StatusOptions, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const target = await resolveTarget(layout, config);
      const p = await loadPipeline(target.config, {
        sets: [...target.sets, ...opts.set],
        stagesRoot: layout.stages,
        cache: layout,
      });
      const lockPath = await currentLockPath(layout, target.lock, target.experiment ?? p.name);
      const plans = await planPipeline({
        pipeline: p,
        layout,
        lock: await readLock(lockPath),
        remote: remoteFor(opts, p),
      });
      const stale = plans.filter((x) => x.freshness.state === "stale").length;
      if (opts.quiet) {
        Deno.exitCode = stale ? 1 : 0;
        return;
      }
      if (opts.json) {
        console.log(JSON.stringify(planJson(plans, projectRelative(layout, p.path)), null, 2));
        return;
      }
      for (const line of planText(plans, "status")) console.log(line);
      const remote = plans.filter(onRemoteOnly).length;
      const only = remote ? ` (${remote} of them in the remote cache only)` : "";
      console.log(`${plans.length - stale} up to date${only}, ${staleCount(plans)}`);
    });
}
