/**
 * Running a config from the command line: `--dry-run` prints the plan; otherwise take the
 * repository lock, run with Ctrl-C handling, render the events on the terminal and print the
 * failures, the `--json` report and the summary line.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import { projectRelative } from "../config/experiments.ts";
import { UsageError } from "../config/usage_error.ts";
import { planPipeline } from "../rebuilder/plan.ts";
import { runPipeline, type RunReport } from "../rebuilder/rebuild.ts";
import type { Layout } from "../store/layout.ts";
import { readLock } from "../store/lockfile.ts";
import { acquireRepoLock, describeHolder } from "../store/repo_lock.ts";
import type { ExecOptions } from "./options.ts";
import { onRemoteOnly, planText } from "./plan_view.ts";
import { remoteFor } from "./remote_options.ts";
import { createView, viewSink } from "./view.ts";

/** The final summary line of every run. */
function summaryLine(
  r: Pick<RunReport, "ran" | "cached" | "pulled" | "failed" | "interrupted">,
): string {
  const pulled = r.pulled ? `, ${r.pulled} pulled from the remote cache` : "";
  const interrupted = r.interrupted ? `, ${r.interrupted} interrupted` : "";
  return `stages: ${r.ran} ran, ${r.cached} cached, ${r.failed} failed${pulled}${interrupted}`;
}

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
  /** The lock file: read for reasons, and rewritten after a successful run unless read-only. */
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
  const { layout, pipeline, publishAs, cli: opts } = o;
  const lockPath = o.lock.path;
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
      writeLockTo: o.lock.mode === "write" ? lockPath : undefined,
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
  printFailures(layout, report);
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  const line = summaryLine(report);
  if (opts.json) console.error(line);
  else console.log(line);
  const code = controller.signal.aborted ? 130 : report.failed + report.skipped > 0 ? 1 : 0;
  return { report, code };
}

/** Each failed stage's error (cut to 6 lines), its log, a permission hint; the skipped ones. */
function printFailures(layout: Layout, report: RunReport): void {
  for (const s of report.stages.filter((s) => s.status === "failed")) {
    const log = s.key ? ` (log: ${projectRelative(layout, `${layout.logs}/${s.key}.log`)})` : "";
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
