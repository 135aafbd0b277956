/**
 * The `Executor`: the scheduler hands it a ready stage (its inputs materialised, its dirs
 * made), it runs the stage entry point (`pipeline/stage_main.ts`) somewhere and reports the
 * outcome. The rebuilder then verifies and stores the outputs, whoever ran them. Today's
 * implementation is `LocalExecutor` (a Deno subprocess); a cluster executor implements the
 * same interface. The cache key never depends on the executor.
 *
 * @module
 */
import type { ChildSpec } from "../protocol.ts";
import type { Progress, StagePermissions } from "../stage_kind.ts";
import type { StageGrant } from "../permissions/grant.ts";

/** One ready stage, as an executor runs it. */
export interface StageJob {
  /** Stage name and kind, for job names and messages. */
  stage: string;
  uses: string;
  /** The stage's cache key. */
  key: string;
  /** What the stage entry point reads from stdin. */
  spec: ChildSpec;
  /** The Deno permissions the kind declares. */
  permissions: StagePermissions;
  /** What the stage process is granted (paths, environment, hosts, libraries): all it gets. */
  grant: StageGrant;
  /** The project root (readable). */
  root: string;
  /** A private temp dir (`TMPDIR` of the stage, writable). */
  tmpDir: string;
  /** Where the stage's output text and log lines are appended. */
  logPath: string;
}

/** What an executor reports while a stage runs. */
export interface JobHooks {
  onProgress(p: Progress): void;
  onLog(line: string): void;
  /** Aborting stops the stage (kill, cancel the job). */
  signal: AbortSignal;
}

/** How a stage run ended; on success its outputs are in `spec.outDir`. */
export type JobOutcome = { ok: true } | { ok: false; error: string };

/** Runs ready stages. */
export interface Executor {
  /** Runs `job` to completion (or until `hooks.signal` aborts); never throws for stage failures. */
  run(job: StageJob, hooks: JobHooks): Promise<JobOutcome>;
}
