/**
 * `run [config|experiment]` (alias `repro`) and `reproduce`: run a config (only what changed).
 *
 * @module
 */
import type { Command } from "commander";
import { lockPathFor } from "../../store/lockfile.ts";
import { runConfig } from "../run_config.ts";
import {
  checkForceArg,
  DEFAULT_CONFIG,
  type ExecOptions,
  execOptions,
  layoutFrom,
  load,
  loadTarget,
} from "../options.ts";

/** Adds the command to the program. */
export function registerRun(root: Command): void {
  execOptions(
    root.command("run").alias("repro")
      .description("run a config: only stages whose inputs, params, code or runtime changed")
      .argument("[config]", "config file or experiment name", DEFAULT_CONFIG),
  ).action(async (config: string, opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const { pipeline, target, publishAs } = await loadTarget(layout, config, opts.set);
    const { code } = await runConfig({
      layout,
      pipeline,
      publishAs,
      lock: { path: target.lock, mode: "write" },
      cli: opts,
    });
    Deno.exitCode = code;
  });

  execOptions(
    root.command("reproduce").description(`run ${DEFAULT_CONFIG} (the paper's results)`),
  ).action(async (opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const p = await load(layout, DEFAULT_CONFIG, opts.set);
    Deno.exitCode = (await runConfig({
      layout,
      pipeline: p,
      publishAs: p.name,
      lock: { path: lockPathFor(p.path), mode: "write" },
      cli: opts,
    })).code;
  });
}
