/**
 * Named experiments: a config run with `--set` overrides under its own name, so its results
 * sit beside the base config's (`artifacts/out/<name>/`, lock `artifacts/experiments/<name>.lock.json`).
 * Also resolves the A/B arguments of `params diff` / `metrics diff`: a config path or an
 * experiment name.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { stableJsonText } from "../../common/stable_json.ts";
import { lockPathFor } from "../store/lockfile.ts";
import type { Layout } from "../store/layout.ts";
import { dirEntries } from "../../common/dir_entries.ts";
import { closest, listConfigs } from "./suggest.ts";
import { UsageError } from "./usage_error.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { readStateFile, type StateRead } from "../store/state_file.ts";
import { experimentSchema } from "../store/state_schemas.ts";

/** What defines an experiment. */
export interface Experiment {
  name: string;
  /** Base config, relative to the project root. */
  config: string;
  /** `--set` overrides, in order. */
  sets: string[];
  /** When it was (last) run. */
  created: string;
  /** The sweep it belongs to (`exp run NAME --sweep …` makes `NAME-<suffix>`s). */
  sweep?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.,=+-]*$/;

let collator: Intl.Collator | undefined; // made on first use: making one costs ~10 ms of ICU set-up

/** Orders names with their numbers by value: k5 before k11. */
export function byName(a: string, b: string): number {
  collator ??= new Intl.Collator("en", { numeric: true });
  return collator.compare(a, b);
}

/**
 * Throws unless `name` can name an experiment: safe as a directory name, and not the name of a
 * config under `configs/` (both would publish to `artifacts/out/<name>/`).
 */
export async function checkExperimentName(layout: Layout, name: string): Promise<void> {
  if (!NAME.test(name)) {
    throw new UsageError(
      `experiment name "${name}" is not allowed: start with a letter or digit, then use letters, ` +
        `digits and "_.,=+-" (e.g. k20)`,
    );
  }
  for (const ext of ["yaml", "yml"]) {
    if (await findConfig(layout, join(layout.root, "configs", `${name}.${ext}`))) {
      throw new UsageError(
        `experiment name "${name}" is taken by configs/${name}.${ext} (both would publish to ` +
          `artifacts/out/${name}/); choose another name`,
      );
    }
  }
}

/** `artifacts/experiments/<name>.json` and `.lock.json`. */
export function experimentPaths(layout: Layout, name: string): { record: string; lock: string } {
  return {
    record: join(layout.experiments, `${name}.json`),
    lock: join(layout.experiments, `${name}.lock.json`),
  };
}

/** Records an experiment's definition. */
export async function saveExperiment(layout: Layout, exp: Experiment): Promise<void> {
  await Deno.mkdir(layout.experiments, { recursive: true });
  await writeFileAtomic(experimentPaths(layout, exp.name).record, stableJsonText(exp));
}

/** Reads an experiment record, telling a missing one from a malformed one. */
export async function readExperimentState(
  layout: Layout,
  name: string,
): Promise<StateRead<Experiment>> {
  return await readStateFile(experimentPaths(layout, name).record, experimentSchema);
}

/** Reads an experiment, or undefined; a malformed record is an error naming its file. */
export async function readExperiment(
  layout: Layout,
  name: string,
): Promise<Experiment | undefined> {
  const r = await readExperimentState(layout, name);
  if (r.state === "bad") throw new UsageError(badRecord(layout, name, r));
  return r.state === "ok" ? r.value : undefined;
}

/** Removes an experiment's record, lock file and published outputs (objects stay until gc). */
export async function removeExperiment(layout: Layout, name: string): Promise<void> {
  const paths = experimentPaths(layout, name);
  await Deno.remove(join(layout.out, name), { recursive: true }).catch(() => {});
  await Deno.remove(paths.lock).catch(() => {});
  await Deno.remove(paths.record);
}

/** Every experiment record: the readable ones by name, and the malformed ones. */
export async function listExperimentRecords(
  layout: Layout,
): Promise<{ experiments: Experiment[]; bad: { name: string; message: string }[] }> {
  const names = (await dirEntries(layout.experiments))
    .map((e) => e.name)
    .filter((n) => n.endsWith(".json") && !n.endsWith(".lock.json"))
    .map((n) => n.slice(0, -5))
    .sort(byName);
  const experiments: Experiment[] = [];
  const bad: { name: string; message: string }[] = [];
  for (const name of names) {
    const r = await readExperimentState(layout, name);
    if (r.state === "ok") experiments.push(r.value);
    else if (r.state === "bad") bad.push({ name, message: badRecord(layout, name, r) });
  }
  return { experiments, bad };
}

/** All readable experiments, by name (malformed records are skipped). */
export async function listExperiments(layout: Layout): Promise<Experiment[]> {
  return (await listExperimentRecords(layout)).experiments;
}

function badRecord(layout: Layout, name: string, r: { path: string; problem: string }): string {
  return `experiment record ${projectRelative(layout, r.path)} is malformed: ${r.problem}; ` +
    `rewrite it with \`pipeline exp run ${name} CONFIG --set …\` or delete it`;
}

/** A config or an experiment, as named on the command line. */
export interface Target {
  /** Absolute config path and overrides to load it with. */
  config: string;
  sets: string[];
  /** Its lock file. */
  lock: string;
  /** The experiment's name, when the argument named one (its outputs publish under it). */
  experiment?: string;
}

/** Resolves a command-line name: an existing config file, else an experiment name. */
export async function resolveTarget(layout: Layout, arg: string): Promise<Target> {
  const path = await findConfig(layout, arg);
  if (path) return { config: path, sets: [], lock: lockPathFor(path) };
  const exp = await readExperiment(layout, arg);
  if (exp) {
    return {
      config: resolve(layout.root, exp.config),
      sets: exp.sets,
      lock: experimentPaths(layout, arg).lock,
      experiment: arg,
    };
  }
  const known = (await listExperiments(layout)).map((e) => e.name);
  throw await notFound(layout, arg, "is neither a config file nor an experiment", known);
}

/**
 * The error for a config (or experiment) name that names nothing: the closest name, if one
 * is close, and the configs (and experiments) there are.
 */
export async function notFound(
  layout: Layout,
  arg: string,
  what: string,
  experiments?: string[],
): Promise<UsageError> {
  const isDir = (p: string) => Deno.stat(p).then((i) => i.isDirectory, () => false);
  if (await isDir(resolve(arg)) || await isDir(resolve(layout.root, arg))) {
    return new UsageError(
      `${arg} is a directory; expected a YAML config file (e.g. ${arg}/NAME.yaml)`,
    );
  }
  const configs = await listConfigs(layout);
  const guess = closest(arg, [...configs, ...experiments ?? []]);
  const there = [`configs: ${configs.join(", ") || "(none)"}`];
  if (experiments) there.push(`experiments: ${experiments.join(", ") || "(none yet)"}`);
  return new UsageError(
    `"${arg}" ${what}${guess ? `; did you mean ${guess}?` : ""} (${there.join("; ")})`,
  );
}

/** An existing config path: as given (from the cwd), else relative to the project root. */
export async function findConfig(layout: Layout, arg: string): Promise<string | undefined> {
  for (const candidate of [resolve(arg), resolve(layout.root, arg)]) {
    const info = await Deno.stat(candidate).catch(() => undefined);
    if (info?.isFile) return candidate;
  }
  return undefined;
}

/** A config path relative to the project root, for records. */
export function projectRelative(layout: Layout, path: string): string {
  return relative(layout.root, path);
}
