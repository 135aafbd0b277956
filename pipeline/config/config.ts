/**
 * Loading a pipeline config: YAML (with `extends:` and `--set`), checked against each stage
 * kind's declaration before anything runs, then put in run order.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StageKind } from "../stage_kind.ts";
import { canonicalDigest } from "../../common/canonical_json.ts";
import { ConfigError, didYouMean, oneOf, show } from "./errors.ts";
import { topoOrder } from "./graph.ts";
import { validateParams } from "./params.ts";
import { parseAllow } from "./allow.ts";
import { describeViolation, policyViolations, type StageAllow } from "../permissions/policy.ts";
import { parseSet } from "./set.ts";
import { parseRemoteSection, type RemoteSettings } from "./remote.ts";
import { type ConfigSource, readConfigSource } from "./source.ts";

export { ConfigError } from "./errors.ts";

/** One stage of a loaded pipeline, validated against its kind. */
export interface StageSpec {
  /** The stage's name in the config. */
  name: string;
  /** The stage kind (directory under the stages root). */
  uses: string;
  /** Input name → upstream stage names (a single input has exactly one). */
  needs: Record<string, string[]>;
  /** Params validated by the kind's schema, defaults applied. */
  params: unknown;
  /** The kind's declaration. */
  kind: StageKind<unknown>;
  /** Absolute directory holding the kind's `kind.ts` and `run.ts`. */
  kindDir: string;
  /** The config's opt-in to permissions beyond the engine's policy (`allow:`). */
  allow?: StageAllow;
}

/** A validated pipeline config. */
export interface Pipeline {
  /** The config path as given. */
  path: string;
  /** The file's basename without `.yaml`/`.yml`. */
  name: string;
  /** The config's `description:`, if any. */
  description?: string;
  /** The config's `remote:` cache, if any (not part of the digest: it changes no result). */
  remote?: RemoteSettings;
  /** Stages in topological order, ties broken by declaration order. */
  stages: StageSpec[];
  /** sha256 of the canonical (sorted-key) JSON of `resolvedConfig(pipeline)`. */
  digest: string;
}

/** Options of {@link loadPipeline}. */
export interface LoadOptions {
  /** `--set` arguments, e.g. `stages.train.with.steps=3`, applied in order. */
  sets?: string[];
  /** Directory holding the stage kinds; default `<project root>/stages`. */
  stagesRoot?: string;
}

const TOP_KEYS = ["stages", "description", "extends", "remote"];
const STAGE_KEYS = ["uses", "needs", "with", "allow"];
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const DEFAULT_STAGES_ROOT = fileURLToPath(new URL("../../stages", import.meta.url));

/**
 * Reads, merges and validates the config at `path`. Throws a ConfigError naming file, line
 * and key for malformed YAML, unknown keys, kinds, params, inputs or upstream stages, wrong
 * param types, missing inputs, cycles and bad `--set` arguments.
 */
export async function loadPipeline(path: string, opts: LoadOptions = {}): Promise<Pipeline> {
  const sets = (opts.sets ?? []).map((s) => parseSet(s, path));
  const src = await readConfigSource(path, sets);
  const stagesRoot = resolve(opts.stagesRoot ?? DEFAULT_STAGES_ROOT);
  const top = src.value;
  checkKeys(src, [], top, TOP_KEYS, "top-level key");
  if (top.description !== undefined && typeof top.description !== "string") {
    fail(src, ["description"], `found ${show(top.description)}; expected a string`);
  }
  const rawStages = top.stages;
  if (!isMap(rawStages) || Object.keys(rawStages).length === 0) {
    fail(
      src,
      ["stages"],
      `found ${show(rawStages)}; expected a map of stage name -> {uses, needs, with}`,
    );
  }
  const names = Object.keys(rawStages);
  const kinds = new KindLoader(stagesRoot);
  const specs = new Map<string, StageSpec>();
  for (const name of names) {
    specs.set(name, await checkStage(src, name, rawStages[name], names, kinds));
  }
  const topo = topoOrder(names, (n) => Object.values(specs.get(n)!.needs).flat());
  if ("cycle" in topo) {
    const [first, second] = topo.cycle;
    const input = Object.entries(specs.get(second)!.needs).find(([, ups]) =>
      ups.includes(first)
    )![0];
    fail(
      src,
      ["stages", second, "needs", input],
      `dependency cycle ${
        topo.cycle.join(" -> ")
      }; expected stages to form a DAG (remove one of these needs)`,
    );
  }
  const stages = topo.order.map((n) => specs.get(n)!);
  const description = top.description as string | undefined;
  const remote = top.remote === undefined
    ? undefined
    : parseRemoteSection(top.remote, (at, problem) => fail(src, ["remote", ...at], problem));
  const pipeline = { path, name: configName(path), description, remote, stages, digest: "" };
  pipeline.digest = canonicalDigest(resolvedConfig(pipeline));
  return pipeline;
}

/**
 * The resolved config as plain data (`description`, and per stage `uses`, `needs`, validated
 * `with`): what the digest covers and what `params diff` compares.
 */
export function resolvedConfig(p: Pipeline): Record<string, unknown> {
  const stages = Object.fromEntries(
    p.stages.map((s) => [s.name, { uses: s.uses, needs: s.needs, with: s.params }]),
  );
  return p.description === undefined ? { stages } : { description: p.description, stages };
}

function configName(path: string): string {
  return path.split(/[\\/]/).pop()!.replace(/\.ya?ml$/, "");
}

async function checkStage(
  src: ConfigSource,
  name: string,
  raw: unknown,
  names: string[],
  kinds: KindLoader,
): Promise<StageSpec> {
  const at = ["stages", name];
  if (!NAME.test(name)) {
    fail(
      src,
      at,
      `bad stage name "${name}"; expected letters, digits, "_" or "-", not starting with a digit`,
    );
  }
  if (!isMap(raw)) fail(src, at, `found ${show(raw)}; expected a map with uses, needs, with`);
  checkKeys(src, at, raw, STAGE_KEYS, "stage key");
  const { kind, kindDir, uses } = await kinds.load(src, name, raw.uses);
  const needs = checkNeeds(src, name, raw.needs, kind, uses, names);
  const params = validateParams(src, name, uses, kind.params, raw.with ?? {});
  const { allow, problem } = parseAllow(raw.allow);
  if (problem) fail(src, [...at, "allow", ...problem.path], problem.problem);
  const violation = policyViolations(kind.permissions?.(params) ?? {}, {
    root: resolve(kinds.root, ".."),
    allow,
  })[0];
  if (violation) fail(src, at, describeViolation(name, violation));
  return { name, uses, needs, params, kind, kindDir, allow };
}

function checkNeeds(
  src: ConfigSource,
  stage: string,
  raw: unknown,
  kind: StageKind<unknown>,
  uses: string,
  names: string[],
): Record<string, string[]> {
  const at = ["stages", stage, "needs"];
  if (raw !== undefined && raw !== null && !isMap(raw)) {
    fail(src, at, `found ${show(raw)}; expected a map of input name -> upstream stage`);
  }
  const given = raw ?? {};
  const inputs = Object.keys(kind.inputs);
  const needs: Record<string, string[]> = {};
  for (const [input, value] of Object.entries(given)) {
    const key = [...at, input];
    const spec = kind.inputs[input];
    if (!spec) {
      fail(
        src,
        key,
        `unknown input "${input}" for kind "${uses}"; expected ${oneOf(inputs)}${
          didYouMean(input, inputs)
        }`,
      );
    }
    if (Array.isArray(value) && !spec.many) {
      fail(
        src,
        key,
        `found a list ${
          show(value)
        }; expected a single upstream stage name (input "${input}" takes one)`,
      );
    }
    const ups = Array.isArray(value) ? value : [value];
    if (ups.length === 0) {
      fail(src, key, `found an empty list; expected at least one upstream stage`);
    }
    ups.forEach((up, i) => {
      const where = Array.isArray(value) ? [...key, i] : key;
      if (typeof up !== "string") {
        fail(src, where, `found ${show(up)}; expected an upstream stage name`);
      }
      if (!names.includes(up)) {
        const others = names.filter((n) => n !== stage);
        fail(
          src,
          where,
          `unknown upstream stage "${up}"; expected ${oneOf(others)}${didYouMean(up, others)}`,
        );
      }
      if (ups.indexOf(up) !== i) {
        fail(src, where, `stage "${up}" listed twice; expected each upstream stage once`);
      }
    });
    needs[input] = ups as string[];
  }
  const missing = inputs.filter((i) => !(i in needs));
  if (missing.length > 0) {
    const what = missing.map((i) => `${i} (${kind.inputs[i].description})`).join(", ");
    fail(
      src,
      at,
      `missing required input ${what}; expected needs: {${
        missing.map((i) => `${i}: <stage>`).join(", ")
      }}`,
    );
  }
  return needs;
}

/** Imports `<stagesRoot>/<uses>/kind.ts` once per kind and checks it exports a `kind`. */
class KindLoader {
  #cache = new Map<string, Promise<StageKind<unknown> | undefined>>();
  constructor(readonly root: string) {}

  async load(src: ConfigSource, stage: string, uses: unknown) {
    const at = ["stages", stage, "uses"];
    if (uses === undefined) {
      fail(
        src,
        ["stages", stage],
        `missing "uses:"; expected a stage kind, ${oneOf(await this.available())}`,
      );
    }
    if (typeof uses !== "string" || !NAME.test(uses)) {
      fail(
        src,
        at,
        `found ${show(uses)}; expected a stage kind name, ${oneOf(await this.available())}`,
      );
    }
    const kindDir = join(this.root, uses);
    if (!this.#cache.has(uses)) this.#cache.set(uses, this.#import(join(kindDir, "kind.ts")));
    let kind: StageKind<unknown> | undefined;
    try {
      kind = await this.#cache.get(uses);
    } catch (e) {
      fail(src, at, `cannot load ${join(kindDir, "kind.ts")}: ${(e as Error).message}`);
    }
    if (kind === undefined) {
      const known = await this.available();
      fail(
        src,
        at,
        `unknown stage kind "${uses}"; expected ${oneOf(known)}${didYouMean(uses, known)}`,
      );
    }
    if (!isKind(kind)) {
      fail(
        src,
        at,
        `${
          join(kindDir, "kind.ts")
        } does not export a valid \`kind\`; expected {description, params, inputs, outputs}`,
      );
    }
    if (acceptsUnknownKeys(kind)) {
      fail(
        src,
        at,
        `the params schema in ${
          join(kindDir, "kind.ts")
        } accepts unknown keys, so typos would pass silently; expected z.strictObject`,
      );
    }
    return { kind, kindDir, uses };
  }

  async #import(file: string): Promise<StageKind<unknown> | undefined> {
    try {
      await Deno.stat(file);
    } catch {
      return undefined;
    }
    return (await import(pathToFileURL(file).href)).kind;
  }

  /** Kind names: directories under the root that hold a `kind.ts`. */
  async available(): Promise<string[]> {
    const kinds: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.root)) {
        if (!entry.isDirectory) continue;
        try {
          await Deno.stat(join(this.root, entry.name, "kind.ts"));
          kinds.push(entry.name);
        } catch { /* not a kind directory (e.g. lib/) */ }
      }
    } catch { /* no stages root: no kinds */ }
    return kinds.sort();
  }
}

function isKind(k: unknown): k is StageKind<unknown> {
  const o = k as Partial<StageKind<unknown>> | undefined;
  return typeof o?.params?.safeParse === "function" && isMap(o.inputs) &&
    typeof o.outputs === "function";
}

/** True when the kind's params schema lets an unknown top-level key through. */
function acceptsUnknownKeys(kind: StageKind<unknown>): boolean {
  const probe = kind.params.safeParse({ "unknown key probe": true });
  return probe.success || !probe.error.issues.some((i) => i.code === "unrecognized_keys");
}

function checkKeys(
  src: ConfigSource,
  at: string[],
  obj: Record<string, unknown>,
  allowed: string[],
  what: string,
) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(
        src,
        [...at, key],
        `unknown ${what} "${key}"; expected ${oneOf(allowed)}${didYouMean(key, allowed)}`,
      );
    }
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(src: ConfigSource, path: (string | number)[], problem: string): never {
  throw new ConfigError(src.originOf(path), path.join("."), problem);
}
