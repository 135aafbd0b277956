/**
 * Running a config (or, for a sweep, several at once) from the command line: `--dry-run`
 * prints the plan; otherwise take the repository lock shared (other runs may proceed; keys are
 * locked one by one), run with Ctrl-C handling, render the events on the terminal and print
 * the failures, the `--json` report and the summary line.
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
import type { Layout } from "../store/layout.ts";
import { readLock } from "../store/lockfile.ts";
import { acquireRepoLock, describeHolder } from "../store/repo_lock.ts";
import type { ExecOptions } from "./options.ts";
import { planText } from "./plan_view.ts";
import { createView, viewSink } from "./view.ts";

/** The final summary line of every run. */
function summaryLine(r: Pick<RunReport, "ran" | "cached" | "failed">): string {
  return `stages: ${r.ran} ran, ${r.cached} cached, ${r.failed} failed`;
}

/** What to run and which lock file goes with it. */
export interface RunConfigOptions {
  layout: Layout;
  pipeline: Pipeline;
  /** Outputs are published under `artifacts/out/<publishAs>/`. */
  publishAs: string;
  /** The lock file: read for reasons, and rewritten after a successful run unless read-only. */
  lock: { path: string; mode: "write" | "read-only" };
  /** The command-line options. */
  cli: ExecOptions;
}

/** Plans (dry run) or runs a pipeline; returns the report (undefined for a dry run) and exit code. */
export async function runConfig(
  o: RunConfigOptions,
): Promise<{ report?: RunReport; code: number }> {
  const { code, reports } = await runConfigs({
    layout: o.layout,
    runs: [{ pipeline: o.pipeline, publishAs: o.publishAs, lock: o.lock }],
    cli: o.cli,
  });
  return { report: reports?.[0], code };
}

/** Several configs to run at once (a sweep's experiments). */
export interface RunConfigsOptions {
  layout: Layout;
  runs: Omit<RunConfigOptions, "layout" | "cli">[];
  cli: ExecOptions;
}

/**
 * Plans (dry run) or runs several pipelines at once, `--jobs` stage executions across all of
 * them, shared stages computed once. With more than one run, stage names are shown as
 * `<run>/<stage>` and the summary line adds up all runs.
 */
export async function runConfigs(
  o: RunConfigsOptions,
): Promise<{ reports?: RunReport[]; code: number }> {
  const { layout, cli: opts } = o;
  for (const r of o.runs) checkForcedStage(r.pipeline, opts.force);
  const many = o.runs.length > 1;
  if (opts.dryRun) {
    const totals = { stages: 0, stale: 0 };
    for (const r of o.runs) {
      const plans = await planPipeline({
        pipeline: r.pipeline,
        layout,
        lock: await readLock(r.lock.path),
        force: opts.force,
      });
      if (many) {
        const runs = plans.filter((p) => p.freshness.state === "stale").map((p) => p.stage);
        console.log(`${r.publishAs}: would run ${runs.join(", ") || "nothing (all cached)"}`);
      }
      for (const line of planText(plans, "dry-run")) console.log(many ? `  ${line}` : line);
      totals.stages += plans.length;
      totals.stale += plans.filter((p) => p.freshness.state === "stale").length;
    }
    console.log(
      `stages: 0 ran, ${totals.stages - totals.stale} cached, 0 failed (dry run: ${totals.stale} ` +
        `would run${many ? `, over ${o.runs.length} experiments` : ""})`,
    );
    return { code: 0 };
  }
  const command = `pipeline ${Deno.args.join(" ")}`;
  using _lock = await acquireRepoLock(layout.artifacts, {
    mode: "shared",
    command,
    onWait: (holder) =>
      console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(holder)}`),
  });
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) Deno.exit(130);
    console.error("interrupted: stopping running stages (Ctrl-C again to quit at once)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onInterrupt);
  const shown = (run: string, stage: string) => many ? `${run}/${stage}` : stage;
  const view = createView(
    o.runs.flatMap((r) => r.pipeline.stages.map((s) => shown(r.publishAs, s.name))),
  );
  const sink = viewSink(view);
  let reports: RunReport[];
  try {
    const runs = await Promise.all(o.runs.map(async (r) => ({
      pipeline: r.pipeline,
      publishAs: r.publishAs,
      lock: await readLock(r.lock.path),
      writeLockTo: r.lock.mode === "write" ? r.lock.path : undefined,
    })));
    reports = await runPipelines({
      runs,
      layout,
      jobs: opts.jobs,
      force: opts.force,
      onEvent: (run, e) => sink(many ? prefixed(run, e) : e),
      signal: controller.signal,
      command,
    });
  } finally {
    view.close();
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onInterrupt);
  }
  for (const report of reports) printFailures(layout, report, many ? `${report.name}/` : "");
  if (opts.json) console.log(JSON.stringify(many ? reports : reports[0], null, 2));
  const total = {
    ran: sum(reports.map((r) => r.ran)),
    cached: sum(reports.map((r) => r.cached)),
    failed: sum(reports.map((r) => r.failed)),
  };
  const line = summaryLine(total) + (many ? ` (${reports.length} experiments)` : "");
  if (opts.json) console.error(line);
  else console.log(line);
  const bad = reports.some((r) => r.failed + r.skipped > 0);
  const code = controller.signal.aborted ? 130 : bad ? 1 : 0;
  return { reports, code };
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

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Each failed stage's error (cut to 6 lines), its log, a permission hint; the skipped ones. */
function printFailures(layout: Layout, report: RunReport, prefix: string): void {
  for (const s of report.stages.filter((s) => s.status === "failed")) {
    const log = s.key ? ` (log: ${projectRelative(layout, `${layout.logs}/${s.key}.log`)})` : "";
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
