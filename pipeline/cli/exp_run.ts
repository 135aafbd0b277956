/**
 * `exp run`: what to run. A name with `--set`s makes (or redefines) one experiment; with
 * `--sweep`s, one experiment per combination (`NAME-<suffix>`), run concurrently; a name
 * alone reruns an experiment (or every experiment of a sweep) with its recorded base config and
 * overrides. A new name without overrides is an error that shows how to give one.
 *
 * @module
 */
import {
  checkExperimentName,
  type Experiment,
  experimentPaths,
  listExperiments,
  projectRelative,
  readExperiment,
  saveExperiment,
} from "../config/experiments.ts";
import { parseSweep, sweepGrid } from "../config/sweep.ts";
import { UsageError } from "../config/usage_error.ts";
import type { Layout } from "../store/layout.ts";
import type { Pipeline } from "../config/config.ts";
import { DEFAULT_CONFIG, type ExecOptions, load } from "./options.ts";
import { runConfigs } from "./run_config.ts";

/** The arguments of `exp run`. */
export interface ExpRunArgs {
  name: string;
  /** The base config as given; undefined when omitted. */
  config?: string;
  /** `--sweep` arguments. */
  sweeps: string[];
  cli: ExecOptions;
}

/** Runs the experiment(s) `a` names; returns the exit code. */
export async function expRun(layout: Layout, a: ExpRunArgs): Promise<number> {
  const defs = a.cli.set.length || a.sweeps.length
    ? await define(layout, a)
    : await recorded(layout, a);
  // Loaded at the same time: their kinds' declarations are asked of the sandbox together.
  const loads = await Promise.allSettled(defs.map((d) => load(layout, d.config, d.sets)));
  const failed = loads.find((l) => l.status === "rejected");
  if (failed) throw failed.reason; // the first experiment's error, in order
  const runs = defs.map((d, i) => ({
    pipeline: (loads[i] as PromiseFulfilledResult<Pipeline>).value,
    publishAs: d.name,
    lock: { path: experimentPaths(layout, d.name).lock, mode: "write" as const },
  }));
  if (!a.cli.dryRun) {
    const created = new Date().toISOString();
    for (const [i, d] of defs.entries()) {
      await saveExperiment(layout, {
        ...d,
        config: projectRelative(layout, runs[i].pipeline.path),
        created,
      });
    }
  }
  return (await runConfigs({ layout, runs, cli: a.cli })).code;
}

/** The experiment(s) defined by `--set`/`--sweep`, names checked. */
async function define(layout: Layout, a: ExpRunArgs): Promise<Omit<Experiment, "created">[]> {
  const config = a.config ?? DEFAULT_CONFIG;
  if (!a.sweeps.length) {
    await checkExperimentName(layout, a.name);
    return [{ name: a.name, config, sets: a.cli.set }];
  }
  const setKeys = a.cli.set.map((s) => s.slice(0, s.indexOf("=")).trim());
  const points = sweepGrid(a.sweeps.map(parseSweep), setKeys);
  const defs = points.map((p) => ({
    name: `${a.name}-${p.suffix}`,
    config,
    sets: [...a.cli.set, ...p.sets],
    sweep: a.name,
  }));
  for (const d of defs) await checkExperimentName(layout, d.name);
  return defs;
}

/** The recorded experiment `a.name`, or the recorded members of sweep `a.name`. */
async function recorded(layout: Layout, a: ExpRunArgs): Promise<Experiment[]> {
  const one = await readExperiment(layout, a.name);
  const defs = one ? [one] : (await listExperiments(layout)).filter((e) => e.sweep === a.name);
  if (!defs.length) {
    await checkExperimentName(layout, a.name);
    if (a.config) await load(layout, a.config, []); // a mistyped config is named first
    throw new UsageError(
      `experiment "${a.name}" does not exist yet; a new experiment needs an override, e.g. ` +
        `\`exp run ${a.name} ${
          a.config ?? DEFAULT_CONFIG
        } --set stages.STAGE.with.PARAM=VALUE\`, or a sweep, e.g. ` +
        `\`--sweep stages.STAGE.with.PARAM=V1,V2\``,
    );
  }
  if (a.config) {
    const wrong = defs.find((d) =>
      d.config !== projectRelative(layout, a.config!) &&
      d.config !== a.config
    );
    if (wrong) {
      throw new UsageError(
        `experiment "${wrong.name}" was defined on ${wrong.config}, not ${a.config}; rerun it ` +
          `with \`exp run ${a.name}\`, or redefine it with --set`,
      );
    }
  }
  return defs;
}
