/**
 * Loading a pipeline config: YAML (with `extends:` and `--set`), checked against each stage
 * kind's declaration before anything runs, then put in run order.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalDigest } from "../../common/canonical_json.ts";
import type { Resources } from "../scheduler/slurm/resources.ts";
import { ConfigError, didYouMean, oneOf, show } from "./errors.ts";
import { type ExecutorConfig, parseExecutorBlock } from "./executor.ts";
import type { KindDeclaration } from "../permissions/kind_declaration.ts";
import { topoOrder } from "./graph.ts";
import { failParams } from "./params.ts";
import { stageResources } from "./resources.ts";
import { parseAllow } from "./allow.ts";
import { describeViolation, policyViolations, type StageAllow } from "../permissions/policy.ts";
import { type DeclaredKind, declaredKind } from "./declared_kind.ts";
import { type KindSandbox, kindSandbox } from "../permissions/kind_sandbox.ts";
import { runtimeViolations } from "../permissions/runtime_facts.ts";
import { type ModuleGraphs, moduleGraphs } from "../rebuilder/module_graph.ts";
import { stageModules } from "../rebuilder/fingerprint.ts";
import { STAGE_MAIN } from "../protocol.ts";
import { parseRemoteSection, type RemoteSettings } from "./remote.ts";
import type { ConfigSource } from "./source.ts";
import { KeptSources } from "./kept_source.ts";

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
  /** The kind's declaration for these params, loaded in the kind sandbox. */
  kind: DeclaredKind;
  /** Absolute directory holding the kind's `kind.ts` and `run.ts`. */
  kindDir: string;
  /** The kind's default resources with the config's `resources:` on top (never keyed). */
  resources: Resources;
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
  /** The config's `executor:` block, if any (not covered by the digest). */
  executor?: ExecutorConfig;
}

/** Options of {@link loadPipeline}. */
export interface LoadOptions {
  /** `--set` arguments, e.g. `stages.train.with.steps=3`, applied in order. */
  sets?: string[];
  /** Directory holding the stage kinds; default `<project root>/stages`. */
  stagesRoot?: string;
  /**
   * Files kept between runs: module graphs, the kind sandbox's answers and parsed configs
   * (`Layout.graphs`, `Layout.declarations`, `Layout.sources`). Without them every load starts
   * one sandbox per kind (and parses the YAML).
   */
  cache?: { graphs: string; declarations: string; sources?: string };
}

const TOP_KEYS = ["stages", "description", "extends", "remote", "executor"];
const STAGE_KEYS = ["uses", "needs", "with", "allow", "resources"];
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const DEFAULT_STAGES_ROOT = fileURLToPath(new URL("../../stages", import.meta.url));

/**
 * Reads, merges and validates the config at `path`. Throws a ConfigError naming file, line
 * and key for malformed YAML, unknown keys, kinds, params, inputs or upstream stages, wrong
 * param types, missing inputs, cycles and bad `--set` arguments.
 */
export async function loadPipeline(path: string, opts: LoadOptions = {}): Promise<Pipeline> {
  const stagesRoot = resolve(opts.stagesRoot ?? DEFAULT_STAGES_ROOT);
  const graphs = moduleGraphs(resolve(stagesRoot, ".."), opts.cache?.graphs);
  const kinds = new KindLoader(stagesRoot, graphs, opts.cache?.declarations);
  const sources = opts.cache?.sources && !opts.sets?.length
    ? new KeptSources(opts.cache.sources, graphs)
    : undefined;
  const kept = await sources?.get(path);
  if (kept) {
    try {
      return await validated(path, kept, kinds);
    } catch (e) {
      // A kept source knows no lines: the error comes from parsing the files again.
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  // Loaded here, not with this module: a run whose config is kept never loads the YAML parser.
  const { parseSet } = await import("./set.ts");
  const sets = (opts.sets ?? []).map((s) => parseSet(s, path));
  const { readConfigSource } = await import("./source.ts");
  const src = await readConfigSource(path, sets);
  const pipeline = await validated(path, src, kinds);
  await sources?.keep(src);
  return pipeline;
}

/** The pipeline of a config's source, validated against its stages' kinds. */
async function validated(path: string, src: ConfigSource, kinds: KindLoader): Promise<Pipeline> {
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
  await kinds.declareAll(rawStages);
  const specs = new Map<string, StageSpec>();
  const known = new Set(names);
  for (const name of names) {
    specs.set(name, await checkStage(src, name, rawStages[name], known, kinds));
  }
  await kinds.save();
  const topo = topoOrder(names, (n) => Object.values(specs.get(n)!.needs).flat());
  if ("cycle" in topo) {
    fail(
      src,
      blamedEdge(src, topo.cycle, specs),
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
  const pipeline: Pipeline = {
    path,
    name: configName(path),
    description,
    remote,
    stages,
    digest: "",
  };
  pipeline.digest = canonicalDigest(resolvedConfig(pipeline));
  const executor = parseExecutorBlock(src);
  if (executor) pipeline.executor = executor;
  return pipeline;
}

/**
 * The `needs` entry of a cycle to blame: the one introduced last, i.e. a `--set` if one made
 * an edge of the cycle, else the edge from the file nearest the top of the `extends:` chain
 * (a child config that closes a loop through its base is named, not the base).
 */
function blamedEdge(
  src: ConfigSource,
  cycle: string[],
  specs: Map<string, StageSpec>,
): (string | number)[] {
  const edges = cycle.slice(1).map((stage, i) => {
    const input = Object.entries(specs.get(stage)!.needs).find(([, ups]) =>
      ups.includes(cycle[i])
    )![0];
    const path = ["stages", stage, "needs", input];
    const origin = src.originOf(path);
    const rank = origin.set !== undefined ? Infinity : src.files.indexOf(origin.file);
    return { path, rank };
  });
  return edges.reduce((best, e) => (e.rank > best.rank ? e : best)).path;
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
  names: ReadonlySet<string>,
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
  const { declaration, kindDir, uses } = await kinds.load(src, name, raw.uses);
  if (declaration.state === "unloadable") {
    fail(src, [...at, "uses"], `kind "${uses}": ${declaration.error}`);
  }
  const needs = checkNeeds(src, name, raw.needs, declaration, uses, names);
  if (declaration.state === "invalid-params") failParams(src, name, declaration.problems);
  const { allow, problem } = parseAllow(raw.allow);
  if (problem) fail(src, [...at, "allow", ...problem.path], problem.problem);
  const declared = declaration.stage;
  const violation = [
    ...policyViolations(declared.permissions, { root: resolve(kinds.root, ".."), allow }),
    ...runtimeViolations(declared.runtime, allow),
  ][0];
  if (violation) fail(src, at, describeViolation(name, violation));
  const kind = declaredKind(declaration, declared);
  const resources = stageResources({
    src,
    stage: name,
    raw: raw.resources,
    defaults: declared.resources,
    kindDir,
  });
  return { name, uses, needs, params: declared.params, kind, kindDir, allow, resources };
}

function checkNeeds(
  src: ConfigSource,
  stage: string,
  raw: unknown,
  kind: { inputs: Record<string, { description: string; many?: boolean }> },
  uses: string,
  names: ReadonlySet<string>,
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
      if (!names.has(up)) {
        const others = [...names].filter((n) => n !== stage);
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

/**
 * Declares `<stagesRoot>/<uses>/kind.ts` for each stage in the kind sandbox (one subprocess per
 * kind, all in parallel, for the stages whose answers are not kept from an earlier run).
 */
class KindLoader {
  #sandbox: KindSandbox;
  #graphs: ModuleGraphs;
  #declared = new Map<string, KindDeclaration>();

  /** `graphs` are the module graphs of this load; `declarations`, where answers are kept. */
  constructor(readonly root: string, graphs: ModuleGraphs, declarations?: string) {
    this.#graphs = graphs;
    this.#sandbox = kindSandbox({ root: resolve(root, ".."), graphs, savePath: declarations });
  }

  /** Declares every stage of `rawStages` whose `uses:` names an existing kind. */
  async declareAll(rawStages: Record<string, unknown>): Promise<void> {
    const byKind = new Map<string, [string, unknown][]>();
    for (const [name, raw] of Object.entries(rawStages)) {
      if (!isMap(raw) || typeof raw.uses !== "string" || !NAME.test(raw.uses)) continue;
      if (!await exists(join(this.root, raw.uses, "kind.ts"))) continue;
      byKind.set(raw.uses, [...byKind.get(raw.uses) ?? [], [name, raw.with]]);
    }
    // Graphs a run needs next, asked now (one `deno info` with those the sandboxes need): the
    // stage entry point's and, below, each kind's run.ts.
    this.#graphs.of([STAGE_MAIN]).catch(() => {});
    await Promise.all([...byKind].map(async ([uses, stages]) => {
      const file = join(this.root, uses, "kind.ts");
      this.#graphs.of(stageModules({ kindDir: join(this.root, uses) })).catch(() => {});
      const answers = await this.#sandbox.declare({ file, uses, withs: stages.map(([, w]) => w) });
      stages.forEach(([name], i) => this.#declared.set(name, answers[i]));
    }));
  }

  /** Keeps module graphs and declarations for the next load. */
  async save(): Promise<void> {
    await Promise.all([this.#graphs.save(), this.#sandbox.save()]);
  }

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
    const declaration = this.#declared.get(stage);
    if (declaration === undefined) {
      const known = await this.available();
      fail(
        src,
        at,
        `unknown stage kind "${uses}"; expected ${oneOf(known)}${didYouMean(uses, known)}`,
      );
    }
    return { declaration, kindDir: join(this.root, uses), uses };
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
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
