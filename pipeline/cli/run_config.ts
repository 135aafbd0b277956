/**
 * Running a config (or, for a sweep, several at once) from the command line: `--dry-run`
 * prints the plan; otherwise take the repository lock shared (other runs may proceed; keys are
 * locked one by one), run with Ctrl-C handling, render the events on the terminal and print
 * the failures, the `--json` report and the end of the run (`run_end.ts`: headline numbers,
 * report path, wall time, the summary line).
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import { projectRelative } from "../config/experiments.ts";
import { UsageError } from "../config/usage_error.ts";
import { planPipeline } from "../rebuilder/plan.ts";
import type { EngineEvent } from "../rebuilder/events.ts";
import { runPipelines } from "../rebuilder/multi.ts";
import type { RunReport } from "../rebuilder/rebuild.ts";
import { type Layout, stageLogPath } from "../store/layout.ts";
import { readLock } from "../store/lockfile.ts";
import { acquireRepoLock, describeHolder } from "../store/repo_lock.ts";
import { chooseExecutor } from "./executor_choice.ts";
import type { ExecOptions } from "./options.ts";
import { onRemoteOnly, planText } from "./plan_view.ts";
import { remoteFor } from "./remote_options.ts";
import { currentLockPath, saveLock } from "./lock_travel.ts";
import { runEndLines, summaryLine, wallTime } from "./run_end.ts";
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
  const { code, reports } = await runConfigs({
    layout: o.layout,
    runs: [{ pipeline: o.pipeline, publishAs: o.publishAs, lock: o.lock }],
    cli: o.cli,
    verifyContent: o.verifyContent,
  });
  return { report: reports?.[0], code };
}

/** Several configs to run at once (a sweep's experiments). */
export interface RunConfigsOptions {
  layout: Layout;
  runs: Omit<RunConfigOptions, "layout" | "cli" | "verifyContent">[];
  cli: ExecOptions;
  /** Re-hash every cached output it uses instead of trusting the verification memo. */
  verifyContent?: boolean;
}

/**
 * Plans (dry run) or runs several pipelines at once, `--jobs` stage executions across all of
 * them, shared stages computed once. With more than one run, stage names are shown as
 * `<run>/<stage>` and the summary line adds up all runs.
 */
export async function runConfigs(
  o: RunConfigsOptions,
): Promise<{ reports?: RunReport[]; code: number }> {
  const started = performance.now();
  const { layout, cli: opts } = o;
  const many = o.runs.length > 1;
  const runs = [];
  for (const r of o.runs) {
    checkForcedStage(r.pipeline, opts.force);
    const lockPath = await currentLockPath(layout, r.lock.path, r.publishAs);
    runs.push({ ...r, lockPath, remote: remoteFor(opts, r.pipeline) });
  }
  if (opts.dryRun) {
    const totals = { stages: 0, stale: 0, pull: 0 };
    for (const r of runs) {
      const plans = await planPipeline({
        pipeline: r.pipeline,
        layout,
        lock: await readLock(r.lockPath),
        force: opts.force,
        remote: r.remote,
      });
      const stale = plans.filter((p) => p.freshness.state === "stale");
      if (many) {
        const names = stale.map((p) => p.stage).join(", ");
        console.log(`${r.publishAs}: would run ${names || "nothing (all cached)"}`);
      }
      for (const line of planText(plans, "dry-run")) console.log(many ? `  ${line}` : line);
      totals.stages += plans.length;
      totals.stale += stale.length;
      totals.pull += plans.filter(onRemoteOnly).length;
    }
    const { stages, stale, pull } = totals;
    console.log(
      `stages: 0 ran, ${stages - stale - pull} cached, 0 failed (dry run: ${stale} would run` +
        (pull ? `, ${pull} would be pulled from the remote cache` : "") +
        (many ? `, over ${runs.length} experiments)` : ")"),
    );
    return { code: 0 };
  }
  // A sweep's experiments share their base config, and so its executor block.
  const choice = await chooseExecutor(runs[0].pipeline, opts);
  const command = `pipeline ${Deno.args.join(" ")}`;
  using _lock = await acquireRepoLock(layout.artifacts, {
    mode: "shared",
    command,
    onWait: (holder) =>
      console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(holder)}`),
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
  if (choice.note) console.error(choice.note);
  const shown = (run: string, stage: string) => many ? `${run}/${stage}` : stage;
  const view = createView(
    runs.flatMap((r) => r.pipeline.stages.map((s) => shown(r.publishAs, s.name))),
  );
  const sink = viewSink(view);
  let reports: RunReport[];
  try {
    reports = await runPipelines({
      runs: await Promise.all(runs.map(async (r) => ({
        pipeline: r.pipeline,
        publishAs: r.publishAs,
        lock: await readLock(r.lockPath),
        writeLockTo: undefined, // saved below: the committed lock may be kept
        remote: r.remote,
      }))),
      layout,
      jobs: choice.jobs,
      retries: opts.retries,
      executor: choice.executor,
      force: opts.force,
      onEvent: (run, e) => sink(many ? prefixed(run, e) : e),
      signal: controller.signal,
      command,
      verifyContent: o.verifyContent,
    });
  } finally {
    view.close();
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onInterrupt);
  }
  for (const [i, report] of reports.entries()) {
    const r = runs[i];
    if (r.lock.mode === "write" && report.lock) {
      const saved = await saveLock({
        layout,
        path: r.lock.path,
        publishAs: r.publishAs,
        lock: report.lock,
      });
      report.lockPath = saved.path;
      if (saved.note) console.error(saved.note);
    }
    printFailures(layout, report, r.publishAs, many ? `${r.publishAs}/` : "");
  }
  if (opts.json) console.log(JSON.stringify(many ? reports : reports[0], null, 2));
  const seconds = (performance.now() - started) / 1000;
  const interrupted = controller.signal.aborted;
  const rerun = `bin/pipeline ${withoutForce(Deno.args, opts.force).join(" ")}`;
  const end = many
    ? sweepEndLines(runs, reports, { seconds, interrupted, command: rerun, layout })
    : runEndLines({
      layout,
      pipeline: runs[0].pipeline,
      report: reports[0],
      publishAs: runs[0].publishAs,
      seconds,
      interrupted,
      command: rerun,
    });
  for (const line of end) (opts.json ? console.error : console.log)(line);
  const bad = reports.some((r) => r.failed + r.skipped > 0);
  return { reports, code: interrupted ? 130 : bad ? 1 : 0 };
}

/**
 * The end of a sweep: each experiment's headline lines prefixed with its name, the wall time,
 * the summary line over all of them (and the resume hint after an interruption).
 */
function sweepEndLines(
  runs: { pipeline: Pipeline; publishAs: string }[],
  reports: RunReport[],
  o: { seconds: number; interrupted: boolean; command: string; layout: Layout },
): string[] {
  const lines: string[] = [];
  for (const [i, report] of reports.entries()) {
    const own = runEndLines({
      ...o,
      pipeline: runs[i].pipeline,
      report,
      publishAs: runs[i].publishAs,
    });
    for (const l of own.filter((l) => /^(results|open): /.test(l))) {
      lines.push(`${runs[i].publishAs}: ${l}`);
    }
  }
  const sum = (f: (r: RunReport) => number | undefined) =>
    reports.reduce((a, r) => a + (f(r) ?? 0), 0);
  lines.push(`wall time ${wallTime(o.seconds)}`);
  lines.push(
    summaryLine({
      ran: sum((r) => r.ran),
      cached: sum((r) => r.cached),
      pulled: sum((r) => r.pulled),
      failed: sum((r) => r.failed),
    }) + ` (${reports.length} experiments)`,
  );
  if (o.interrupted) {
    lines.push(`interrupted: rerun \`${o.command}\` to resume (finished stages are cached)`);
  }
  return lines;
}

/** `--force STAGE` must name a stage of the config. */
function checkForcedStage(pipeline: Pipeline, force: ExecOptions["force"]): void {
  const names = pipeline.stages.map((s) => s.name);
  if (typeof force === "string" && !names.includes(force)) {
    throw new UsageError(
      `--force ${force}: no such stage in ${pipeline.path} (stages: ${names.join(", ")})`,
    );
  }
}

/** The event with its stage shown as `<run>/<stage>`. */
function prefixed(run: string, e: EngineEvent): EngineEvent {
  if (e.type === "run-finished") return e;
  if (e.type === "warning") return { ...e, message: `${run}: ${e.message}` };
  return { ...e, stage: `${run}/${e.stage}` };
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
function printFailures(
  layout: Layout,
  report: RunReport,
  publishAs: string,
  prefix: string,
): void {
  for (const s of report.stages.filter((s) => s.status === "failed")) {
    const log = s.key
      ? ` (log: ${projectRelative(layout, stageLogPath(layout, publishAs, s.stage))})`
      : "";
    const lines = (s.error ?? "").split("\n");
    const shown = lines.length > 6
      ? [...lines.slice(0, 6), `    … ${lines.length - 6} more lines`]
      : lines;
    console.error(`failed: ${prefix}${s.stage}: ${shown.join("\n")}${log}`);
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
  const skipped = report.stages.filter((s) => s.status === "skipped").map((s) => prefix + s.stage);
  if (skipped.length) {
    console.error(`not run because an upstream stage failed: ${skipped.join(", ")}`);
  }
}
