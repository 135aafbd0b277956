/**
 * The command line that runs one stage: `deno run` of the stage entry point
 * (`pipeline/stage_main.ts`) with only the permissions the stage's kind declares. Every
 * executor runs this same command, whether as a local subprocess or inside a Slurm job.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { engineHome } from "../store/layout.ts";
import type { StageJob } from "./executor.ts";

/** Absolute path of the stage entry point. */
export const STAGE_MAIN: string = fileURLToPath(new URL("../stage_main.ts", import.meta.url));

/**
 * The `deno run` permission flags for a stage: read the project, the engine and its inputs
 * (and `extraRead`), write its out, state and temp dirs; env and sys for tfjs; net and ffi only
 * when the kind declares them.
 */
export function permissionFlags(job: StageJob, extraRead: string[] = []): string[] {
  const read = [job.root, engineHome, ...(job.permissions.read ?? []), ...extraRead];
  for (const inputs of Object.values(job.spec.inputs)) read.push(...inputs.map((i) => i.dir));
  const write = [job.spec.outDir, job.spec.stateDir, job.tmpDir];
  const flags = [
    `--allow-read=${[...new Set(read)].join(",")}`,
    `--allow-write=${write.join(",")}`,
    // tfjs reads a few environment variables and the CPU count.
    "--allow-env",
    "--allow-sys",
  ];
  if (job.permissions.net) flags.push("--allow-net");
  if (job.permissions.ffi) flags.push("--allow-ffi");
  return flags;
}

/** How the stage entry point gets its `ChildSpec`. */
export interface StageCommandOptions {
  /** Read the spec from this JSON file instead of stdin (a batch job has no engine on stdin). */
  specFile?: string;
}

/** The argv (program first) that runs `job`'s stage entry point. */
export function stageCommand(job: StageJob, o: StageCommandOptions = {}): string[] {
  const spec = o.specFile === undefined ? [] : [`--spec=${o.specFile}`];
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    `--config=${engineHome}/deno.json`,
    ...permissionFlags(job, o.specFile === undefined ? [] : [o.specFile]),
    STAGE_MAIN,
    ...spec,
  ];
}

/** The environment a stage runs with, on top of the executor's own. */
export function stageEnv(job: StageJob): Record<string, string> {
  return { TMPDIR: job.tmpDir, NO_COLOR: "1" };
}
