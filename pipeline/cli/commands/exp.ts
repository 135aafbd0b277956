/**
 * `exp run NAME [config] --set …` and `exp list`: named experiments.
 *
 * @module
 */
import type { Command } from "commander";
import {
  checkExperimentName,
  experimentPaths,
  listExperimentRecords,
  projectRelative,
  saveExperiment,
} from "../../config/experiments.ts";
import { readLock } from "../../store/lockfile.ts";
import { runConfig } from "../run_config.ts";
import {
  checkForceArg,
  DEFAULT_CONFIG,
  type ExecOptions,
  execOptions,
  layoutFrom,
  load,
} from "../options.ts";

/** Adds the command to the program. */
export function registerExp(root: Command): void {
  const exp = root.command("exp").description(
    "named experiments: config variants kept side by side",
  );
  execOptions(
    exp.command("run")
      .description(
        "run a config with --set overrides as experiment NAME (outputs in artifacts/out/NAME)",
      )
      .argument("<name>", "experiment name, e.g. k20")
      .argument("[config]", "base config file", DEFAULT_CONFIG),
  ).action(async (name: string, config: string, opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    await checkExperimentName(layout, name);
    const p = await load(layout, config, opts.set);
    if (!opts.dryRun) {
      await saveExperiment(layout, {
        name,
        config: projectRelative(layout, p.path),
        sets: opts.set,
        created: new Date().toISOString(),
      });
    }
    const lock = experimentPaths(layout, name).lock;
    Deno.exitCode = (await runConfig({
      layout,
      pipeline: p,
      publishAs: name,
      lock: { path: lock, mode: "write" },
      cli: opts,
    })).code;
  });
  exp.command("list")
    .description("list experiments with their base config and overrides")
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const { experiments: exps, bad } = await listExperimentRecords(layout);
      for (const b of bad) console.error(`error: ${b.message}`);
      if (bad.length) Deno.exitCode = 1;
      else if (!exps.length) {
        console.log("no experiments (create one with `exp run NAME --set …`)");
      }
      for (const e of exps) {
        const done = await readLock(experimentPaths(layout, e.name).lock)
          ? ""
          : "  (no complete run)";
        console.log(
          `${e.name}  ${e.config}  ${e.sets.join(" ") || "(no overrides)"}  ${e.created}${done}`,
        );
      }
    });
}
