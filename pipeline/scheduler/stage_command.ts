/**
 * The command line that runs one stage: `deno run` of the stage entry point
 * (`pipeline/stage_main.ts`) with the Deno flags of the stage's grant and nothing else. Every
 * executor runs this same command, whether as a local subprocess or inside a Slurm job.
 *
 * @module
 */
import { denoFlags, type StageGrant } from "../permissions/grant.ts";
import { STAGE_MAIN } from "../protocol.ts";
import { engineHome, nodeModulesFlags } from "../store/layout.ts";
import type { StageJob } from "./executor.ts";

/** How the stage entry point gets its `ChildSpec`. */
export interface StageCommandOptions {
  /**
   * Read the spec from this JSON file instead of stdin (a batch job has no engine on stdin).
   * It must be readable under the grant (the stage's temp dir is).
   */
  specFile?: string;
}

/** The argv (program first) that runs `job`'s stage entry point with its grant's flags. */
export function stageCommand(job: StageJob, o: StageCommandOptions = {}): string[] {
  const spec = o.specFile === undefined ? [] : [`--spec=${o.specFile}`];
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    `--config=${engineHome}/deno.json`,
    ...nodeModulesFlags(),
    ...denoFlags(job.grant),
    STAGE_MAIN,
    ...spec,
  ];
}

/** The line each stage log starts with: what the stage was granted. */
export function grantLine(grant: StageGrant): string {
  return `granted: ${denoFlags(grant).join(" ")} (environment: ${
    Object.keys(grant.env).join(", ")
  })`;
}
