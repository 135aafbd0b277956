/**
 * Follows all of a run's Slurm jobs with one `squeue` call per poll (every job of a run shares
 * its name), backing off from `minIntervalMs` to `maxIntervalMs` while nothing changes. Status
 * comes from `squeue` alone; `sacct` is asked only when accounting is on, for jobs the controller
 * has already forgotten and for exit codes. A controller that stops answering is retried for
 * `unresponsiveBudgetMs`, then every watch rejects with a {@link ControllerUnavailableError}.
 * Aborting `signal` scancels every job of the run; their watches then end `CANCELLED`.
 *
 * @module
 */
import { slurmCommand, type SlurmEnv } from "./command.ts";
import {
  type JobOutcome,
  type JobStatus,
  NEVER_CLEARING_REASONS,
  outcomeOf,
  verdict,
} from "./states.ts";
import { cancelRun, runJobName, type SubmittedJob } from "./submit.ts";

/** How a run's jobs are followed. */
export interface PollerOptions extends SlurmEnv {
  /** The run whose jobs are polled (their shared name is `pipeline-<runId>`). */
  runId: string;
  /** First and shortest wait between polls (default 500 ms); used again after any change. */
  minIntervalMs?: number;
  /** Longest wait between polls (default 5000 ms). */
  maxIntervalMs?: number;
  /** Factor by which the wait grows while nothing changes (default 1.5). */
  growth?: number;
  /** How long the controller may fail to answer before watches reject (default 60 s). */
  unresponsiveBudgetMs?: number;
  /** `auto` (default) uses `sacct` when accounting answers; `off` never calls it. */
  accounting?: "auto" | "off";
  /** Pending reasons that fail a job fast (default {@link NEVER_CLEARING_REASONS}). */
  fatalPendingReasons?: ReadonlySet<string>;
  /** Polls a job may be missing from squeue (and sacct) before it counts as lost (default 3). */
  missingPolls?: number;
  /** Aborting cancels every job of the run. */
  signal?: AbortSignal;
}

/** The controller did not answer within the budget. */
export class ControllerUnavailableError extends Error {
  override name = "ControllerUnavailableError";
}

interface Watch {
  job: SubmittedJob;
  last?: JobStatus;
  missing: number;
  resolve(o: JobOutcome): void;
  reject(e: Error): void;
}

/** Polls every job of one run; see the module doc. */
export class RunPoller {
  readonly #o: Required<Omit<PollerOptions, "signal" | "env" | "commandTimeoutMs">> & PollerOptions;
  readonly #watches = new Map<string, Watch>();
  #loop?: Promise<void>;
  #wake?: () => void;
  #accounting: "unknown" | "on" | "off";
  #squeueCalls = 0;
  #cancelled = false;
  #nudged = false;

  constructor(options: PollerOptions) {
    this.#o = {
      minIntervalMs: 500,
      maxIntervalMs: 5000,
      growth: 1.5,
      unresponsiveBudgetMs: 60_000,
      accounting: "auto",
      fatalPendingReasons: NEVER_CLEARING_REASONS,
      missingPolls: 3,
      ...options,
    };
    this.#accounting = this.#o.accounting === "off" ? "off" : "unknown";
    options.signal?.addEventListener("abort", () => void this.#cancelAll(), { once: true });
  }

  /** How many `squeue` calls the poller has made (one per poll, whatever the number of jobs). */
  get squeueCalls(): number {
    return this.#squeueCalls;
  }

  /** Follows a submitted job until it ends; resolves with its outcome (failures included). */
  watch(job: SubmittedJob): Promise<JobOutcome> {
    const done = new Promise<JobOutcome>((resolve, reject) => {
      this.#watches.set(job.jobId, { job, missing: 0, resolve, reject });
    });
    if (this.#cancelled) void this.#cancel([job.jobId]);
    this.#wake?.();
    this.#loop ??= this.#run().finally(() => (this.#loop = undefined));
    return done;
  }

  /**
   * Polls now and backs off again from the shortest interval: for when a job is known to be
   * about to end (its log says the stage is done), so its end is seen within a fraction of a
   * second instead of after the backed-off interval of a long job.
   */
  nudge(): void {
    this.#nudged = true;
    this.#wake?.();
  }

  async #cancelAll(): Promise<void> {
    this.#cancelled = true;
    await this.#cancel([...this.#watches.keys()]);
    this.#wake?.();
  }

  async #cancel(jobIds: string[]): Promise<void> {
    try {
      await cancelRun({ ...this.#o, runId: this.#o.runId, jobIds });
    } catch (e) {
      for (const id of jobIds) this.#watches.get(id)?.reject(e as Error);
    }
  }

  async #run(): Promise<void> {
    let interval = this.#o.minIntervalMs;
    let failingSince: number | undefined;
    while (this.#watches.size > 0) {
      await this.#sleep(interval);
      if (this.#watches.size === 0) break;
      if (this.#nudged) {
        this.#nudged = false;
        interval = this.#o.minIntervalMs / this.#o.growth;
      }
      const polledAt = Date.now();
      const statuses = await this.#squeue();
      if (typeof statuses === "string") {
        failingSince ??= polledAt;
        if (Date.now() - failingSince > this.#o.unresponsiveBudgetMs) {
          const error = new ControllerUnavailableError(
            `the Slurm controller did not answer for ${
              Math.round((Date.now() - failingSince) / 1000)
            } s (budget ${this.#o.unresponsiveBudgetMs / 1000} s): ${statuses}`,
          );
          for (const w of this.#watches.values()) w.reject(error);
          this.#watches.clear();
          break;
        }
        interval = Math.min(interval * this.#o.growth, this.#o.maxIntervalMs);
        continue;
      }
      failingSince = undefined;
      const changed = await this.#update(statuses);
      interval = changed
        ? this.#o.minIntervalMs
        : Math.min(interval * this.#o.growth, this.#o.maxIntervalMs);
    }
  }

  /** Waits, or less when a new job is watched or the run is cancelled. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  /** One squeue for the whole run: statuses by job id, or the error text when it failed. */
  async #squeue(): Promise<Map<string, JobStatus> | string> {
    this.#squeueCalls++;
    const r = await slurmCommand("squeue", [
      `--name=${runJobName(this.#o.runId)}`,
      "--states=all",
      "--noheader",
      "--format=%i|%T|%r",
    ], this.#o);
    if (r.code !== 0) return `squeue exited ${r.code}: ${r.stderr}`;
    const statuses = new Map<string, JobStatus>();
    for (const line of r.stdout.split("\n")) {
      const [jobId, state, ...reason] = line.trim().split("|");
      if (jobId && state) statuses.set(jobId, { jobId, state, reason: reason.join("|") || "None" });
    }
    return statuses;
  }

  /** Applies a poll; true when some job changed state. */
  async #update(statuses: Map<string, JobStatus>): Promise<boolean> {
    let changed = false;
    const missing = [...this.#watches.keys()].filter((id) => !statuses.has(id));
    if (missing.length > 0) {
      for (const s of (await this.#sacct(missing)).values()) statuses.set(s.jobId, s);
    }
    for (const [id, w] of this.#watches) {
      const status = statuses.get(id);
      if (status === undefined) {
        if (++w.missing >= this.#o.missingPolls) {
          this.#finish(w, {
            jobId: id,
            state: "UNKNOWN",
            reason:
              "the controller no longer lists the job (MinJobAge passed) and accounting (sacct) is off",
          });
          changed = true;
        }
        continue;
      }
      w.missing = 0;
      if (w.last?.state !== status.state || w.last?.reason !== status.reason) changed = true;
      w.last = status;
      const v = verdict(status, this.#o.fatalPendingReasons);
      if (v === "completed") this.#finish(w, { ...status, exitCode: status.exitCode ?? "0:0" });
      else if (v === "failed") this.#finish(w, await this.#withExitCode(status));
      else if (v === "stuck") {
        await this.#cancel([id]);
        this.#finish(w, status);
      }
    }
    return changed;
  }

  #finish(w: Watch, status: JobStatus): void {
    this.#watches.delete(w.job.jobId);
    w.resolve(outcomeOf(status, w.job.logPath, w.job.label));
  }

  /** The exit code of a failed job: from sacct when accounting is on, else from scontrol. */
  async #withExitCode(status: JobStatus): Promise<JobStatus> {
    if (status.exitCode !== undefined) return status;
    const fromSacct = (await this.#sacct([status.jobId])).get(status.jobId)?.exitCode;
    if (fromSacct !== undefined) return { ...status, exitCode: fromSacct };
    const r = await slurmCommand("scontrol", ["show", "job", "--oneliner", status.jobId], this.#o);
    const exitCode = /\bExitCode=(\d+:\d+)/.exec(r.stdout)?.[1];
    return exitCode === undefined ? status : { ...status, exitCode };
  }

  /** Statuses from sacct for the given ids; empty when accounting is off. */
  async #sacct(jobIds: string[]): Promise<Map<string, JobStatus>> {
    const statuses = new Map<string, JobStatus>();
    if (this.#accounting === "off") return statuses;
    const r = await slurmCommand("sacct", [
      "--allocations",
      "--noheader",
      "--parsable2",
      `--jobs=${jobIds.join(",")}`,
      "--format=JobIDRaw,State,ExitCode,Reason",
    ], this.#o);
    if (r.code !== 0 || /accounting storage is disabled/i.test(r.stderr + r.stdout)) {
      if (this.#accounting === "unknown") this.#accounting = "off";
      return statuses;
    }
    this.#accounting = "on";
    for (const line of r.stdout.split("\n")) {
      const [jobId, state, exitCode, reason] = line.trim().split("|");
      if (jobId && state) {
        statuses.set(jobId, {
          jobId,
          state: state.split(" ")[0],
          exitCode,
          reason: reason || "None",
        });
      }
    }
    return statuses;
  }
}
