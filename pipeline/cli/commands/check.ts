/**
 * `check [config|experiment]`: regenerate a config and compare its metrics with its committed
 * lock file (git's HEAD version when a run rewrote the working copy), naming the machine and
 * runtime of both sides.
 *
 * @module
 */
import type { Command } from "commander";
import { projectRelative } from "../../config/experiments.ts";
import { UsageError } from "../../config/usage_error.ts";
import { changedOutputs, DEFAULT_TOLERANCE, metricDrifts } from "../../store/lock_drift.ts";
import { committedLock, describeSide, runtimeDifferences } from "../lock_travel.ts";
import { diffTable } from "../diff_table.ts";
import { runConfig } from "../run_config.ts";
import {
  checkForceArg,
  DEFAULT_CONFIG,
  type ExecOptions,
  execOptions,
  layoutFrom,
  loadTarget,
  nonNegative,
} from "../options.ts";

/** Adds the command to the program. */
export function registerCheck(root: Command): void {
  execOptions(
    root.command("check")
      .description(
        "regenerate a config and compare its metrics with its committed lock file " +
          "(cached stages count as regenerated; add --force to recompute every stage)",
      )
      .argument("[config]", "config file or experiment name", DEFAULT_CONFIG)
      .option(
        "--tolerance <rel>",
        "allowed relative difference |a-b|/max(|a|,|b|) per number (timing keys are skipped)",
        nonNegative,
        DEFAULT_TOLERANCE,
      ),
    { dryRun: false },
  ).action(async (config: string, opts: ExecOptions & { tolerance: number }, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const { pipeline: p, target, publishAs } = await loadTarget(layout, config, opts.set);
    const lockPath = target.lock;
    const reference = await committedLock(layout, lockPath);
    if (!reference) {
      throw new UsageError(
        `no lock file ${projectRelative(layout, lockPath)}: run \`bin/pipeline run ${config}\` ` +
          `and commit it`,
      );
    }
    const locked = reference.lock;
    const { report, code } = await runConfig({
      layout,
      pipeline: p,
      publishAs,
      lock: { path: lockPath, mode: "read-only" },
      cli: opts,
      verifyContent: true,
    });
    if (code !== 0 || !report?.lock) {
      Deno.exitCode = code || 1;
      return;
    }
    console.log(`check: comparing with ${reference.source}`);
    console.log(`  ${describeSide("locked", locked)}`);
    console.log(`  ${describeSide("now   ", report.lock)}`);
    const differs = runtimeDifferences(locked, report.lock);
    if (differs.length) console.log(`  runtime differs: ${differs.join("; ")}`);
    const drifts = metricDrifts(locked, report.lock, opts.tolerance);
    const bytes = changedOutputs(locked, report.lock);
    if (bytes.length) {
      console.log(`note: output bytes differ from the lock for: ${bytes.join(", ")}`);
    }
    if (drifts.length) {
      console.log(diffTable(
        Object.fromEntries(drifts.map((d) => [d.key, d.locked])),
        Object.fromEntries(drifts.map((d) => [d.key, d.now])),
        ["locked", "now"],
      ));
      console.log(
        `check: ${drifts.length} metric(s) drifted beyond relative tolerance ${opts.tolerance}`,
      );
      Deno.exitCode = 1;
    } else {
      console.log(
        `check: metrics match ${reference.source} within relative tolerance ${opts.tolerance}`,
      );
    }
  });
}
