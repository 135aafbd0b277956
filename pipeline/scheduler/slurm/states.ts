/**
 * What a Slurm job state means for the stage it runs: still going, done, or failed (and why).
 *
 * @module
 */

/** The terminal states that fail a stage. */
export const FAILED_STATES: ReadonlySet<string> = new Set([
  "FAILED",
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "CANCELLED",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "REVOKED",
  "SPECIAL_EXIT",
]);

/**
 * Pending reasons that cannot clear while the job waits: the request exceeds what the partition
 * or any node offers, or names an account/QOS/dependency that will never be valid. Reasons such
 * as `ReqNodeNotAvail` are left out by default: they clear when a drained node or a maintenance
 * reservation ends. Pass `fatalPendingReasons` to the poller to change the set.
 */
export const NEVER_CLEARING_REASONS: ReadonlySet<string> = new Set([
  "BadConstraints",
  "PartitionConfig",
  "PartitionNodeLimit",
  "PartitionTimeLimit",
  "DependencyNeverSatisfied",
  "InvalidAccount",
  "InvalidQOS",
  "AccountNotAllowed",
  "QOSMaxCpuPerJobLimit",
  "QOSMaxMemoryPerJob",
  "QOSMaxWallDurationPerJobLimit",
]);

/** One job's state as a poll saw it. */
export interface JobStatus {
  jobId: string;
  /** Slurm's state name, e.g. `RUNNING`, `COMPLETED`, `TIMEOUT` (`CANCELLED by 0` is cut to `CANCELLED`). */
  state: string;
  /** Slurm's reason (`None` when there is none). */
  reason: string;
  /** `exit:signal` as Slurm prints it (e.g. `3:0`, `0:15`), when known. */
  exitCode?: string;
}

/** How a job ended. */
export interface JobOutcome {
  ok: boolean;
  jobId: string;
  /** The Slurm state (`COMPLETED`, `FAILED`, …) or `PENDING` for a job failed fast. */
  state: string;
  reason: string;
  exitCode?: string;
  logPath: string;
  /** For a failure: the state, reason, exit code and log path in one sentence. */
  message?: string;
}

/** Where a state leaves a job. */
export type Verdict = "running" | "completed" | "failed" | "stuck";

/** Classifies a status: terminal success, terminal failure, pending forever, or still going. */
export function verdict(status: JobStatus, fatalPendingReasons: ReadonlySet<string>): Verdict {
  if (status.state === "COMPLETED") return "completed";
  if (FAILED_STATES.has(status.state)) return "failed";
  if (status.state === "PENDING" && fatalPendingReasons.has(reasonName(status.reason))) {
    return "stuck";
  }
  return "running";
}

/** `ReqNodeNotAvail, UnavailableNodes:n1` → `ReqNodeNotAvail`. */
function reasonName(reason: string): string {
  return reason.split(/[,(\s]/)[0];
}

/** The outcome for a terminal or stuck status. */
export function outcomeOf(status: JobStatus, logPath: string, label?: string): JobOutcome {
  const ok = status.state === "COMPLETED";
  const outcome: JobOutcome = {
    ok,
    jobId: status.jobId,
    state: status.state,
    reason: status.reason,
    exitCode: status.exitCode,
    logPath,
  };
  if (!ok) {
    const what = label === undefined
      ? `slurm job ${status.jobId}`
      : `${label} (slurm job ${status.jobId})`;
    const how = status.state === "PENDING"
      ? `can never start: pending for reason ${status.reason}`
      : `ended ${status.state} (reason ${status.reason}${
        status.exitCode === undefined ? "" : `, exit code ${status.exitCode}`
      })`;
    outcome.message = `${what} ${how}; log: ${logPath}`;
  }
  return outcome;
}
