/**
 * The Slurm client the `slurm` executor drives: parse a stage's resources, submit its job with
 * `sbatch --parsable`, follow all of a run's jobs with one `squeue` per poll, `scancel` on abort.
 *
 * @module
 */
export { controllerAnswers, type SlurmEnv, SlurmMissingError } from "./command.ts";
export {
  formatDuration,
  parseDuration,
  parseMemory,
  parseResources,
  ResourceError,
  type Resources,
  type ResourceSpec,
} from "./resources.ts";
export {
  batchScript,
  cancelRun,
  type JobRequest,
  runJobName,
  sbatchArgs,
  SubmitError,
  submitJob,
  type SubmittedJob,
} from "./submit.ts";
export { ControllerUnavailableError, type PollerOptions, RunPoller } from "./poller.ts";
export {
  FAILED_STATES,
  type JobOutcome,
  type JobStatus,
  NEVER_CLEARING_REASONS,
} from "./states.ts";
