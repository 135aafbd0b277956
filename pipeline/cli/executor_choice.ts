/**
 * Which executor a run uses: `--executor` on the command line, else the config's
 * `executor: { name }`, else `local`; and how many cores (local) or queued jobs (slurm) may be
 * in use at once. The choice never changes a cache key.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import { type ExecutorName, EXECUTORS } from "../config/executor.ts";
import { UsageError } from "../config/usage_error.ts";
import type { Executor } from "../scheduler/executor.ts";
import { LocalExecutor } from "../scheduler/local.ts";

/** The executor of a run and its concurrency. */
export interface ExecutorChoice {
  name: ExecutorName;
  executor: Executor;
  /** Weight the scheduler lets run at once: cores locally, submitted jobs on Slurm. */
  jobs: number;
  /** A line for the user (where the jobs can be seen), if any. */
  note?: string;
}

/** Jobs submitted at once on Slurm without `--jobs`: the cluster schedules them. */
const SLURM_DEFAULT_JOBS = 1000;

/** Picks the executor from the command line (`cli.executor`, `cli.jobs`) and the config. */
export async function chooseExecutor(
  pipeline: Pipeline,
  cli: { executor?: string; jobs?: number },
): Promise<ExecutorChoice> {
  const name = cli.executor ?? pipeline.executor?.name ?? "local";
  if (!EXECUTORS.includes(name as ExecutorName)) {
    throw new UsageError(`--executor ${name}: expected one of: ${EXECUTORS.join(", ")}`);
  }
  if (name === "local") {
    return {
      name,
      executor: new LocalExecutor(),
      jobs: cli.jobs ?? navigator.hardwareConcurrency,
    };
  }
  // Loaded here: a local run (a no-op above all) needs none of the Slurm client.
  const { controllerAnswers } = await import("../scheduler/slurm/mod.ts");
  const { SlurmExecutor } = await import("../scheduler/slurm_executor.ts");
  if (!(await controllerAnswers())) {
    throw new UsageError(
      "--executor slurm: no Slurm controller answers (`sinfo` fails); run on the cluster's " +
        "login node, or start a one-node cluster on this machine with ci/slurm/start.sh (as root)",
    );
  }
  const executor = new SlurmExecutor({
    poll: pipeline.executor?.poll,
    defaults: pipeline.executor?.defaults,
  });
  const jobName = `pipeline-${executor.runId}`;
  return {
    name: "slurm",
    executor,
    jobs: cli.jobs ?? SLURM_DEFAULT_JOBS,
    note: `slurm: stages run as jobs named ${jobName} (squeue --name ${jobName})`,
  };
}
