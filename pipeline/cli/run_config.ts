/**
 * Running a config from the command line: `--dry-run` prints the plan; otherwise take the
 * repository lock, run with Ctrl-C handling, render the events on the terminal and print the
 * failures, the `--json` report and the end of the run (`run_end.ts`: headline numbers,
 * report path, wall time, the summary line).
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import { projectRelative } from "../config/experiments.ts";
import { UsageError } from "../config/usage_error.ts";
import { planPipeline } from "../rebuilder/plan.ts";
import { runPipeline, type RunReport } from "../rebuilder/rebuild.ts";
import { type Layout, stageLogPath } from "../store/layout.ts";
import { readLock } from "../store/lockfile.ts";
import { acquireRepoLock, describeHolder } from "../store/repo_lock.ts";
import type { ExecOptions } from "./options.ts";
import { onRemoteOnly, planText } from "./plan_view.ts";
import { remoteFor } from "./remote_options.ts";
import { currentLockPath, saveLock } from "./lock_travel.ts";
import { runEndLines } from "./run_end.ts";
import { createView, viewSink } from "./view.ts";

/**
 * A second SIGINT this soon after the first is the same Ctrl-C delivered twice (`deno task`
 * forwards the terminal's signal to the engine, which the terminal signalled already).
 */
const DUPLICATE_SIGNAL_MS = 500;

/** What to run and which lock file goes with it. */
export interface RunConfigOptions {
  layout: Layout;
  pipeline: Pipeline;
  /** Outputs are published under `artifacts/out/<publishAs>/`. */
  publishAs: string;
  /**
   * The lock file: read for reasons, and after a successful run (unless read-only) rewritten,
   * or, when only the machine differs from it, kept beside this machine's lock
   * (`lock_travel.ts`).
   */
  lock: { path: string; mode: "write" | "read-only" };
  /** The command-line options. */
  cli: ExecOptions;
  /** Re-hash every cached output it uses instead of trusting the verification memo. */
  verifyContent?: boolean;
}

/** Plans (dry run) or runs a pipeline; returns the report (undefined for a dry run) and exit code. */
export async function runConfig(
  o: RunConfigOptions,
): Promise<{ report?: RunReport; code: number }> {
  const started = performance.now();
  const { layout, pipeline, publishAs, cli: opts } = o;
  const lockPath = await currentLockPath(layout, o.lock.path, publishAs);
  const names = pipeline.stages.map((s) => s.name);
  if (typeof opts.force === "string" && !names.includes(opts.force)) {
    throw new UsageError(
      `--force ${opts.force}: no such stage in ${pipeline.path} (stages: ${names.join(", ")})`,
    );
  }
  const remote = remoteFor(opts, pipeline);
  if (opts.dryRun) {
    const plans = await planPipeline({
      pipeline,
      layout,
      lock: await readLock(lockPath),
      force: opts.force,
      remote,
    });
    for (const line of planText(plans, "dry-run")) console.log(line);
    const stale = plans.filter((p) => p.freshness.state === "stale").length;
    const pull = plans.filter(onRemoteOnly).length;
    console.log(
      `stages: 0 ran, ${
        plans.length - stale - pull
      } cached, 0 failed (dry run: ${stale} would run` +
        (pull ? `, ${pull} would be pulled from the remote cache)` : ")"),
    );
    return { code: 0 };
  }
  const command = `pipeline ${Deno.args.join(" ")}`;
  using _lock = await acquireRepoLock(layout.artifacts, command, (holder) => {
    console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(holder)}`);
  });
  const controller = new AbortController();
  let firstSignal = 0;
  const onInterrupt = () => {
    if (controller.signal.aborted) {
      if (performance.now() - firstSignal < DUPLICATE_SIGNAL_MS) return;
      console.error("interrupted again: quitting at once (stages are stopped as they notice)");
      Deno.exit(130);
    }
    firstSignal = performance.now();
    console.error("interrupted: stopping running stages (Ctrl-C again to quit at once)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onInterrupt);
  const view = createView(pipeline.stages.map((s) => s.name));
  let report: RunReport;
  try {
    report = await runPipeline({
      pipeline,
      layout,
      publishAs,
      lock: await readLock(lockPath),
      writeLockTo: undefined, // saved below: the committed lock may be kept
      jobs: opts.jobs,
      force: opts.force,
      onEvent: viewSink(view),
      signal: controller.signal,
      verifyContent: o.verifyContent,
      remote,
    });
  } finally {
    view.close();
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onInterrupt);
  }
  if (o.lock.mode === "write" && report.lock) {
    const saved = await saveLock({ layout, path: o.lock.path, publishAs, lock: report.lock });
    report.lockPath = saved.path;
    if (saved.note) console.error(saved.note);
  }
  printFailures(layout, report, publishAs);
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  const end = runEndLines({
    layout,
    pipeline,
    report,
    publishAs,
    seconds: (performance.now() - started) / 1000,
    interrupted: controller.signal.aborted,
    command: `bin/pipeline ${withoutForce(Deno.args, opts.force).join(" ")}`,
  });
  for (const line of end) (opts.json ? console.error : console.log)(line);
  const code = controller.signal.aborted ? 130 : report.failed + report.skipped > 0 ? 1 : 0;
  return { report, code };
}

/**
 * The command line without `--force [stage]`: rerunning an interrupted forced run without it
 * resumes where it stopped, while with it the stages it forced and finished would run again.
 */
export function withoutForce(args: string[], force: ExecOptions["force"]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--force=")) continue;
    if (args[i] === "--force") {
      if (typeof force === "string" && args[i + 1] === force) i++;
      continue;
    }
    out.push(args[i]);
  }
  return out;
}

/** Each failed stage's error (cut to 6 lines), its log, a permission hint; the skipped ones. */
function printFailures(layout: Layout, report: RunReport, publishAs: string): void {
  for (const s of report.stages.filter((s) => s.status === "failed")) {
    const log = s.key
      ? ` (log: ${projectRelative(layout, stageLogPath(layout, publishAs, s.stage))})`
      : "";
    const lines = (s.error ?? "").split("\n");
    const shown = lines.length > 6
      ? [...lines.slice(0, 6), `    … ${lines.length - 6} more lines`]
      : lines;
    console.error(`failed: ${s.stage}: ${shown.join("\n")}${log}`);
    const denied = /NotCapable: Requires (\w+) access/.exec(s.error ?? "")?.[1];
    if (denied) {
      const wants: Record<string, string> = {
        read: "read: [path]",
        net: "net: [host]",
        ffi: "ffi: [library path]",
        env: "env: {NAME: value}",
      };
      const want = wants[denied] ?? `${denied}: …`;
      console.error(
        `hint: stages run with only the permissions their kind declares; add { ${want} } to ` +
          `permissions() in stages/${s.uses}/kind.ts (beyond the engine's policy, the config ` +
          `must also opt in with allow: on the stage; README: Permissions)`,
      );
    }
  }
  const skipped = report.stages.filter((s) => s.status === "skipped").map((s) => s.stage);
  if (skipped.length) {
    console.error(`not run because an upstream stage failed: ${skipped.join(", ")}`);
  }
}
