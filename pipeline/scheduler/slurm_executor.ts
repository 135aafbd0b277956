/**
 * The `slurm` executor: each ready stage becomes one batch job running the same stage entry
 * point as the local executor (same command, same grant and environment), submitted with
 * `sbatch --parsable` under the run's job name, with `--output` appending to the stage's log in
 * `artifacts/logs/`, the project root as working directory and the stage's resources. One
 * `RunPoller` follows all of the run's jobs; while a job runs its log is tailed, so the stage's
 * progress and log lines reach the view as they do locally. Aborting the run `scancel`s every
 * job of it. The project directory must be on a filesystem the compute nodes share.
 *
 * @module
 */
import { join } from "node:path";
import { ChildOutput } from "./child_output.ts";
import type { Executor, JobHooks, JobOutcome, StageJob } from "./executor.ts";
import { grantLine, stageCommand } from "./stage_command.ts";
import {
  type PollerOptions,
  type Resources,
  RunPoller,
  type SlurmEnv,
  SubmitError,
  submitJob,
} from "./slurm/mod.ts";

/** How the executor talks to the cluster. */
export interface SlurmExecutorOptions extends SlurmEnv {
  /** Names the run's jobs (`pipeline-<runId>`); default: time and process id. */
  runId?: string;
  /** Poll timing (defaults: 250 ms, growing ×1.5 to 5 s while nothing changes). */
  poll?: Pick<PollerOptions, "minIntervalMs" | "maxIntervalMs" | "growth">;
  /** Resources every job gets unless its stage says otherwise (e.g. the partition). */
  defaults?: Resources;
  /** How often a running job's log is read for progress (default 250 ms). */
  tailIntervalMs?: number;
}

/** Runs each stage as one Slurm job; see the module doc. */
export class SlurmExecutor implements Executor {
  /** The run id its jobs are named after. */
  readonly runId: string;
  readonly #o: SlurmExecutorOptions;
  #poller?: RunPoller;

  constructor(o: SlurmExecutorOptions = {}) {
    this.#o = o;
    this.runId = o.runId ?? `${Date.now().toString(36)}-${Deno.pid}`;
  }

  async run(job: StageJob, hooks: JobHooks): Promise<JobOutcome> {
    if (hooks.signal.aborted) return { ok: false, error: "cancelled" };
    const specFile = join(job.tmpDir, "stage-spec.json");
    await Deno.writeTextFile(specFile, JSON.stringify(job.spec));
    // As locally: nothing of the engine's environment (which sbatch exports), only the grant's.
    const env = Object.entries(job.grant.env).map(([k, v]) => `${k}=${v}`);
    await Deno.writeTextFile(job.logPath, grantLine(job.grant) + "\n", { append: true });
    const offset = await sizeOf(job.logPath);
    // Before submitting: a Ctrl-C while sbatch runs then still cancels the job it submits.
    const poller = this.#pollerFor(hooks.signal);
    let submitted;
    try {
      submitted = await submitJob({
        runId: this.runId,
        command: ["env", "-i", ...env, ...stageCommand(job, { specFile })],
        chdir: job.root,
        logPath: job.logPath,
        appendLog: true,
        resources: { ...this.#o.defaults, ...job.resources },
        label: job.stage,
      }, this.#o);
    } catch (e) {
      if (e instanceof SubmitError) return { ok: false, error: e.message };
      throw e;
    }
    hooks.onLog(`submitted as slurm job ${submitted.jobId} (${submitted.jobName})`);
    const output = new ChildOutput(hooks);
    let ending = false;
    const tail = new LogTail(job.logPath, offset, (line) => {
      output.line(line);
      // The stage said done (or failed): its job ends any moment, look soon.
      if (!ending && (output.done || output.error !== undefined)) {
        ending = true;
        poller.nudge();
      }
    });
    // A failed read is retried at the next tick; the final read after the job ended reports.
    const timer = setInterval(() => tail.read().catch(() => {}), this.#o.tailIntervalMs ?? 250);
    try {
      const outcome = await poller.watch(submitted);
      await tail.read(true).catch(() => {}); // the log is for the view; the outcome is squeue's
      if (outcome.ok) return { ok: true };
      if (hooks.signal.aborted) return { ok: false, error: `cancelled (${outcome.message})` };
      return {
        ok: false,
        error: output.error === undefined
          ? outcome.message!
          : `${outcome.message}\n${output.error}`,
      };
    } catch (e) {
      return { ok: false, error: `slurm job ${submitted.jobId}: ${(e as Error).message}` };
    } finally {
      clearInterval(timer);
    }
  }

  /** One poller for the whole run (the rebuilder hands every job the run's signal). */
  #pollerFor(signal: AbortSignal): RunPoller {
    this.#poller ??= new RunPoller({
      minIntervalMs: 250,
      maxIntervalMs: 5000,
      ...this.#o.poll,
      env: this.#o.env,
      commandTimeoutMs: this.#o.commandTimeoutMs,
      runId: this.runId,
      signal,
    });
    return this.#poller;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Reads the lines appended to a file since `offset`, one read at a time. */
class LogTail {
  #offset: number;
  #rest = "";
  #busy?: Promise<void>;
  readonly #decoder = new TextDecoder();

  constructor(readonly path: string, offset: number, readonly onLine: (line: string) => void) {
    this.#offset = offset;
  }

  /** Hands complete new lines to `onLine`; `final` also hands over an unterminated last line. */
  async read(final = false): Promise<void> {
    while (this.#busy) await this.#busy;
    this.#busy = this.#readOnce(final);
    try {
      await this.#busy;
    } finally {
      this.#busy = undefined;
    }
  }

  async #readOnce(final: boolean): Promise<void> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch {
      return; // not created yet (the job has not started)
    }
    try {
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await file.read(buf);
        if (n === null || n === 0) break;
        this.#offset += n;
        this.#rest += this.#decoder.decode(buf.subarray(0, n), { stream: true });
      }
    } finally {
      file.close();
    }
    const lines = this.#rest.split("\n");
    this.#rest = lines.pop()!;
    for (const line of lines) this.onLine(line.replace(/\r$/, ""));
    if (final && this.#rest) {
      this.onLine(this.#rest);
      this.#rest = "";
    }
  }
}
