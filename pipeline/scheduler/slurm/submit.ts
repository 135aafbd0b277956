/**
 * Turns one ready stage into one Slurm batch job: the sbatch options (a job name shared by the
 * whole run, the log file, the working directory, the resources) and a batch script that `exec`s
 * the stage's command, then submits it with `sbatch --parsable` and cancels a run's jobs with
 * `scancel`.
 *
 * @module
 */
import { dirname } from "node:path";
import { slurmCommand, type SlurmEnv } from "./command.ts";
import { formatDuration, type Resources } from "./resources.ts";

/** One job to submit. */
export interface JobRequest {
  /** The run the job belongs to; every job of a run shares the name {@link runJobName}(runId). */
  runId: string;
  /** The command the job runs (argv; no shell is involved). */
  command: string[];
  /** The job's working directory (`--chdir`); must be visible to the compute nodes. */
  chdir: string;
  /** The job log (`--output`; stderr goes there too). Its directory is created. */
  logPath: string;
  /** Append to the log (`--open-mode=append`) instead of truncating it. */
  appendLog?: boolean;
  /** Resources; absent fields leave the cluster's defaults. */
  resources?: Resources;
  /** A short label written into the log's first line and the job's comment (e.g. the stage name). */
  label?: string;
}

/** A submitted job. */
export interface SubmittedJob {
  jobId: string;
  jobName: string;
  logPath: string;
  label?: string;
}

/** sbatch refused the job (bad option, a request no node can satisfy, no such partition, …). */
export class SubmitError extends Error {
  override name = "SubmitError";
}

/** The job name shared by all of a run's jobs: `pipeline-<runId>`. */
export function runJobName(runId: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(runId)) {
    throw new Error(
      `run id "${runId}": use letters, digits, _ . - only (it becomes a Slurm job name)`,
    );
  }
  return `pipeline-${runId}`;
}

/** The sbatch options for a job (without the script, which goes on stdin). */
export function sbatchArgs(job: JobRequest): string[] {
  const r = job.resources ?? {};
  const args = [
    "--parsable",
    `--job-name=${runJobName(job.runId)}`,
    `--output=${job.logPath}`,
    `--chdir=${job.chdir}`,
    "--nodes=1",
    "--ntasks=1",
  ];
  if (job.appendLog) args.push("--open-mode=append");
  if (job.label !== undefined) args.push(`--comment=${job.label}`);
  if (r.cpus !== undefined) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.memMb !== undefined) args.push(`--mem=${r.memMb}M`);
  if (r.timeSeconds !== undefined) args.push(`--time=${formatDuration(r.timeSeconds)}`);
  if (r.gpus !== undefined && r.gpus > 0) args.push(`--gpus=${r.gpus}`);
  if (r.partition !== undefined) args.push(`--partition=${r.partition}`);
  if (r.account !== undefined) args.push(`--account=${r.account}`);
  args.push(...(r.extra ?? []));
  return args;
}

/** Quotes one word for a POSIX shell. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The batch script: a header line in the log, then `exec` of the command (its exit code is the job's). */
export function batchScript(job: JobRequest): string {
  if (job.command.length === 0) throw new Error("a Slurm job needs a command");
  const label = job.label === undefined ? "" : ` ${shellQuote(job.label)}`;
  return [
    "#!/bin/sh",
    `echo "slurm job $SLURM_JOB_ID${label} on $(hostname) started $(date -u +%Y-%m-%dT%H:%M:%SZ)"`,
    `exec ${job.command.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

/** Submits a job with `sbatch --parsable`; rejects with a {@link SubmitError} carrying sbatch's reason. */
export async function submitJob(job: JobRequest, options: SlurmEnv = {}): Promise<SubmittedJob> {
  await Deno.mkdir(dirname(job.logPath), { recursive: true });
  const args = sbatchArgs(job);
  const r = await slurmCommand("sbatch", args, { ...options, stdin: batchScript(job) });
  const jobId = r.stdout.trim().split(";")[0];
  if (r.code !== 0 || !/^\d+(_\d+)?$/.test(jobId)) {
    const reason = r.stderr.replace(/^sbatch: error: /gm, "").replaceAll("\n", "; ") ||
      r.stdout.trim();
    throw new SubmitError(
      `sbatch refused ${job.label ?? "the job"} (${args.slice(1).join(" ")}): ${reason}`,
    );
  }
  return { jobId, jobName: runJobName(job.runId), logPath: job.logPath, label: job.label };
}

/** Cancels every job of a run (`scancel --name`), and the given ids too in case a name was changed. */
export async function cancelRun(
  options: SlurmEnv & { runId: string; jobIds?: string[] },
): Promise<void> {
  const r = await slurmCommand(
    "scancel",
    [`--name=${runJobName(options.runId)}`, ...(options.jobIds ?? [])],
    options,
  );
  // scancel complains about ids that already finished; that is not a failure to cancel.
  if (r.code !== 0 && !/already completing or completed|Invalid job id/i.test(r.stderr)) {
    throw new Error(`scancel for run ${options.runId} failed: ${r.stderr}`);
  }
}
