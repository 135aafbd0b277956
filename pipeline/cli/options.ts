/**
 * What the commands share: the default config, loading a config by name, the options of
 * commands that execute a pipeline, and option parsers.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import { loadPipeline, type Pipeline } from "../config/config.ts";
import type { RemoteFlags } from "../config/remote.ts";
import { findConfig, notFound, resolveTarget, type Target } from "../config/experiments.ts";
import { UsageError } from "../config/usage_error.ts";
import { type Layout, layout as layoutOf, projectRoot } from "../store/layout.ts";
import { remoteOptions } from "./remote_options.ts";

/** The config of `reproduce` and the default of every command. */
export const DEFAULT_CONFIG = "configs/paper.yaml";

/** Options shared by commands that execute a pipeline. */
export interface ExecOptions extends RemoteFlags {
  force?: boolean | string;
  dryRun?: boolean;
  /** Cores (local) or jobs (slurm) in use at once; default: this machine's cores / unlimited. */
  jobs?: number;
  set: string[];
  /** `local` or `slurm`; default: the config's `executor: { name }`, else local. */
  executor?: string;
  /** Times a failed stage is rerun (resubmitted) before it counts as failed. */
  retries: number;
  json?: boolean;
}

/** The project layout for `--root`. */
export function layoutFrom(cmd: Command): Layout {
  return layoutOf(projectRoot(cmd.optsWithGlobals().root));
}

/** `run --force configs/x.yaml` would take the config for a stage name: say so. */
export function checkForceArg(force: ExecOptions["force"]): void {
  if (typeof force === "string" && /\.ya?ml$/.test(force)) {
    throw new UsageError(
      `--force takes a stage name, not ${force}; to force every stage write \`run CONFIG --force\``,
    );
  }
}

/** Loads a config named on the command line, with `--set` overrides. */
export async function load(layout: Layout, config: string, sets: string[]): Promise<Pipeline> {
  const path = await findConfig(layout, config);
  if (!path) {
    throw await notFound(layout, config, `is not a config file (looked in . and ${layout.root})`);
  }
  return await loadPipeline(path, { sets, stagesRoot: layout.stages, cache: layout });
}

/**
 * Loads a config file or an experiment (its base config with its overrides), then `sets`;
 * `publishAs` is the experiment's name or the config's.
 */
export async function loadTarget(
  layout: Layout,
  arg: string,
  sets: string[],
): Promise<{ pipeline: Pipeline; target: Target; publishAs: string }> {
  const target = await resolveTarget(layout, arg);
  const pipeline = await loadPipeline(target.config, {
    sets: [...target.sets, ...sets],
    stagesRoot: layout.stages,
    cache: layout,
  });
  return { pipeline, target, publishAs: target.experiment ?? pipeline.name };
}

/** Parses a whole number ≥ 1. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

/** Parses a whole number ≥ 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}

/** Parses a number ≥ 0. */
export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("expected a number ≥ 0, e.g. 1e-6");
  }
  return n;
}

/** Collects a repeatable option. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the options of commands that execute a pipeline (`--dry-run` unless `dryRun` is false). */
export function execOptions(cmd: Command, o: { dryRun: boolean } = { dryRun: true }): Command {
  cmd.option("--force [stage]", "rerun every stage, or only STAGE (dependants follow its outputs)");
  if (o.dryRun) cmd.option("-n, --dry-run", "show what would run and why, run nothing");
  return remoteOptions(cmd)
    .option(
      "-j, --jobs <n>",
      "cores busy at once (a stage takes its resources.cpus); on slurm: jobs queued at once " +
        `(default: ${navigator.hardwareConcurrency} here, unlimited on slurm)`,
      positiveInt,
    )
    .option(
      "--executor <name>",
      "where stages run: local (subprocesses) or slurm (one batch job each); " +
        "default: the config's executor block, else local",
    )
    .option("--retries <n>", "rerun (resubmit) a failed stage up to N times", nonNegativeInt, 0)
    .option(
      "-S, --set <key=value>",
      "override a config value, e.g. -S stages.train_llgae.with.epochs=3 (repeatable)",
      collect,
      [],
    )
    .option("--json", "print a machine-readable run report on stdout");
}
