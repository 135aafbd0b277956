/**
 * Several pipelines run at once in one process (the experiments of a sweep): `jobs` stage
 * executions at a time across all of them, and every cache key they have in common computed
 * once (the others wait on its key lock, then take the cached result). Each run keeps its own
 * records, lock file and published outputs, exactly as `runPipeline` alone would.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import type { RemoteSettings } from "../config/remote.ts";
import type { Layout } from "../store/layout.ts";
import type { LockFile } from "../store/lockfile.ts";
import type { Executor } from "../scheduler/executor.ts";
import type { EngineEvent } from "./events.ts";
import { runPipeline, type RunReport } from "./rebuild.ts";
import { sharedRun } from "./shared_run.ts";

/** One pipeline of a multi-run. */
export interface PipelineRun {
  pipeline: Pipeline;
  /** Outputs are published under `artifacts/out/<publishAs>/`; also names the run in events. */
  publishAs: string;
  lock?: LockFile;
  writeLockTo?: string;
  remote?: RemoteSettings;
}

/** How to run several pipelines. */
export interface MultiRunOptions {
  runs: PipelineRun[];
  layout: Layout;
  /** Stage executions at once, across all runs. */
  jobs: number;
  force?: boolean | string;
  /** Receives every run's events with the run's `publishAs`. */
  onEvent: (run: string, e: EngineEvent) => void;
  signal: AbortSignal;
  executor?: Executor;
  /** Reruns of a failed stage (`--retries`). */
  retries?: number;
  /** Shown to other processes waiting for a key this process computes. */
  command?: string;
  /** Re-hash every cached output used instead of trusting the verification memo. */
  verifyContent?: boolean;
}

/** Runs every pipeline concurrently; one report per run, in the order given. */
export async function runPipelines(o: MultiRunOptions): Promise<RunReport[]> {
  const shared = sharedRun({ layout: o.layout, jobs: o.jobs, command: o.command });
  return await Promise.all(o.runs.map((r) =>
    runPipeline({
      ...r,
      layout: o.layout,
      jobs: o.jobs,
      force: o.force,
      onEvent: (e) => o.onEvent(r.publishAs, e),
      signal: o.signal,
      executor: o.executor,
      retries: o.retries,
      verifyContent: o.verifyContent,
      shared,
    })
  ));
}
