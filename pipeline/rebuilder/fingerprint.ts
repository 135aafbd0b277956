/**
 * The cache key of a stage: every input that can change what the stage writes, gathered in
 * one record, hashed as canonical JSON. Each field says why it belongs. `fingerprintChanges`
 * compares two records field by field into the typed reasons `status` prints.
 *
 * @module
 */
import { join } from "node:path";
import { canonicalDigest, canonicalJson } from "../../common/canonical_json.ts";
import type { ModuleGraphs } from "./module_graph.ts";
import type { StageKind } from "../stage_kind.ts";
import type { StaleReason } from "./reasons.ts";

/**
 * Bump when the engine changes what a stage sees (context fields, input layout), so that every
 * stage reruns once instead of silently reusing results produced under the old contract.
 */
export const ENGINE_PROTOCOL = "1";

/** The outputs of one upstream stage as one input of this stage sees them. */
export interface InputFingerprint {
  /** Upstream stage name: `ctx.inputs` hands it to the stage, which may print it. */
  stage: string;
  /**
   * Output file → sha256: the exact bytes the stage can read, except the upstream kind's
   * `volatileOutputs`. Those (wall-clock timings) differ on every run of the upstream stage
   * while its result does not; keyed, they would rerun every dependant after every upstream
   * rerun and defeat early cutoff. Leaving them out is sound because the upstream's other
   * outputs determine everything in them a result may depend on (a byte-identical model has
   * the same test error); a dependant that merely copies a timing keeps the older one.
   */
  outputs: Record<string, string>;
}

/** Everything a stage's outputs may depend on. */
export interface Fingerprint {
  /** Engine/stage contract version (see `ENGINE_PROTOCOL`). */
  engine: string;
  /** The stage name: `ctx.stage` is handed to `run()`. */
  stage: string;
  /** The stage kind (`uses:`): which code runs. */
  uses: string;
  /**
   * Validated params with defaults applied: what the code is told to do. Except the kind's
   * `keyNeutralParams`, which cannot change the outputs (where `download` fetches from, its
   * timeouts): keyed, a machine that already has the verified data would refetch it whenever
   * the configured sources differ. Manifests and lock files still record them.
   */
  params: unknown;
  /** Input name → upstream outputs, in config order: what the code reads. */
  inputs: Record<string, InputFingerprint[]>;
  /** Module label → sha256 for every local module imported by the kind's `kind.ts`/`run.ts`. */
  code: Record<string, string>;
  /** npm package → resolved version used by that import graph: library code that runs. */
  npm: Record<string, string>;
  /** `kind.runtime(params)`, e.g. the resolved tfjs backend: changes the numbers computed. */
  runtime: Record<string, string>;
  /** Deno (and with it V8) version: JIT, Math.* and wasm engine that compute the numbers. */
  deno: string;
  /** OS and CPU architecture: native libraries (BLAS, wasm SIMD paths) differ per platform. */
  platform: string;
}

/** The cache key: sha256 of the canonical JSON of the fingerprint. */
export function cacheKey(fp: Fingerprint): string {
  return canonicalDigest(fp);
}

/** One digest for the whole local import graph (`StageProvenance.codeDigest`). */
export function codeDigest(code: Record<string, string>): string {
  return canonicalDigest(code);
}

/** The platform string recorded in fingerprints. */
export function currentPlatform(): string {
  return `${Deno.build.os}-${Deno.build.arch}`;
}

/**
 * The differences between a previous fingerprint and the current one, as typed reasons: one per
 * changed param, input, module, npm package, runtime setting or contract field. Empty when equal.
 */
export function fingerprintChanges(before: Fingerprint, now: Fingerprint): StaleReason[] {
  const reasons: StaleReason[] = [];
  for (const field of ["engine", "uses", "stage"] as const) {
    if (before[field] !== now[field]) {
      reasons.push({ kind: "contract-changed", field, old: before[field], new: now[field] });
    }
  }
  reasons.push(...paramChanges(before.params, now.params));
  reasons.push(...inputChanges(before.inputs, now.inputs));
  for (const [path, a, b] of changedEntries(before.code, now.code)) {
    const change = a === undefined ? "added" : b === undefined ? "removed" : "edited";
    reasons.push({ kind: "module-changed", path, change });
  }
  reasons.push(...npmChanges(before.npm, now.npm));
  reasons.push(...runtimeChanges(before.runtime, now.runtime));
  for (const field of ["deno", "platform"] as const) {
    if (before[field] !== now[field]) {
      reasons.push({ kind: "contract-changed", field, old: before[field], new: now[field] });
    }
  }
  return reasons;
}

/** One `param-changed` per differing leaf (dotted path) of two params values. */
export function paramChanges(before: unknown, now: unknown): StaleReason[] {
  return changedLeaves(before, now).map(([key, old, value]) => ({
    kind: "param-changed",
    key,
    old,
    new: value,
  }));
}

/** One `npm-changed` per package whose resolved version differs. */
export function npmChanges(
  before: Record<string, string>,
  now: Record<string, string>,
): StaleReason[] {
  return changedEntries(before, now).map(([pkg, old, value]) => ({
    kind: "npm-changed",
    package: pkg,
    old,
    new: value,
  }));
}

/** One `runtime-changed` per runtime setting that differs. */
export function runtimeChanges(
  before: Record<string, string>,
  now: Record<string, string>,
): StaleReason[] {
  return changedEntries(before, now).map(([setting, old, value]) => ({
    kind: "runtime-changed",
    setting,
    old,
    new: value,
  }));
}

/**
 * `input-changed` for each upstream whose keyed outputs differ (`input-rewired` when the input
 * is fed by other stages). `before` may be built from a lock file's upstream outputs.
 */
export function inputChanges(
  before: Record<string, InputFingerprint[]>,
  now: Record<string, InputFingerprint[]>,
): StaleReason[] {
  const reasons: StaleReason[] = [];
  for (const input of new Set([...Object.keys(before), ...Object.keys(now)])) {
    const a = before[input] ?? [];
    const b = now[input] ?? [];
    const stagesA = a.map((i) => i.stage);
    const stagesB = b.map((i) => i.stage);
    if (stagesA.join("\0") !== stagesB.join("\0")) {
      reasons.push({ kind: "input-rewired", input, old: stagesA, new: stagesB });
      continue;
    }
    b.forEach((up, i) => {
      const files = changedEntries(a[i].outputs, up.outputs).map(([f]) => f);
      if (files.length) reasons.push({ kind: "input-changed", input, stage: up.stage, files });
    });
  }
  return reasons;
}

function changedEntries(
  a: Record<string, string>,
  b: Record<string, string>,
): [string, string | undefined, string | undefined][] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => [k, a[k], b[k]]);
}

/** Leaves (dotted paths) whose values differ between two JSON values. */
function changedLeaves(a: unknown, b: unknown, prefix = ""): [string, unknown, unknown][] {
  const isObj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
    return keys.flatMap((k) => changedLeaves(ra[k], rb[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [[prefix || "(all)", a, b]];
}

/** The outputs of an upstream stage as the engine knows them. */
export interface UpstreamOutputs {
  /** Output file → sha256, every declared output (what dependants are given). */
  outputs: Record<string, string>;
  /** The kind's `volatileOutputs`: left out of dependants' fingerprints. */
  volatile: string[];
}

/** Upstream stage name → its outputs (undefined while unknown). */
export type KnownOutputs = Map<string, UpstreamOutputs | undefined>;

/** What `gatherFingerprint` needs to know about a stage (a subset of config's StageSpec). */
export interface FingerprintSubject {
  name: string;
  uses: string;
  needs: Record<string, string[]>;
  params: unknown;
  kind: Pick<StageKind<unknown>, "outputs" | "volatileOutputs" | "keyNeutralParams">;
  kindDir: string;
}

/**
 * The kind's `volatileOutputs` for `stage`'s params (for `KnownOutputs`). Throws when the kind
 * calls an output volatile that it does not declare.
 */
export function volatileOutputs(stage: FingerprintSubject): string[] {
  const volatile = stage.kind.volatileOutputs?.(stage.params) ?? [];
  const declared = stage.kind.outputs(stage.params);
  const unknown = volatile.filter((f) => !declared.includes(f));
  if (unknown.length) {
    throw new Error(
      `kind ${stage.uses}: volatileOutputs names ${unknown.join(", ")}, which outputs() does ` +
        `not declare (declared: ${declared.join(", ")}); fix stages/${stage.uses}/kind.ts`,
    );
  }
  return volatile;
}

/** The params that go into the key: `stage.params` without the kind's `keyNeutralParams`. */
export function keyedParams(stage: Pick<FingerprintSubject, "kind" | "params">): unknown {
  const neutral = stage.kind.keyNeutralParams ?? [];
  const params = stage.params;
  if (!neutral.length || params === null || typeof params !== "object") return params;
  return Object.fromEntries(Object.entries(params).filter(([k]) => !neutral.includes(k)));
}

/** The digests of an upstream stage's outputs that its dependants' keys hold. */
export function keyedOutputs(known: UpstreamOutputs | undefined): Record<string, string> {
  if (!known) return {};
  return Object.fromEntries(
    Object.entries(known.outputs).filter(([f]) => !known.volatile.includes(f)),
  );
}

/** The root modules of a stage's code: its kind's `kind.ts` and `run.ts`. */
export function stageModules(stage: Pick<FingerprintSubject, "kindDir">): string[] {
  return [join(stage.kindDir, "kind.ts"), join(stage.kindDir, "run.ts")];
}

/**
 * Gathers the fingerprint of a stage: params without key-neutral ones, upstream outputs from
 * `known` without volatile ones (unknown upstream outputs count as empty), code and npm
 * versions from the import graph of `kind.ts` and `run.ts`, runtime from
 * `kind.runtime(params)` (passed in, already resolved).
 */
export async function gatherFingerprint(
  stage: FingerprintSubject,
  known: KnownOutputs,
  graphs: ModuleGraphs,
  runtime: Record<string, string>,
): Promise<Fingerprint> {
  const graph = await graphs.of(stageModules(stage));
  const inputs: Record<string, InputFingerprint[]> = {};
  for (const [name, upstream] of Object.entries(stage.needs)) {
    inputs[name] = upstream.map((s) => ({ stage: s, outputs: keyedOutputs(known.get(s)) }));
  }
  return {
    engine: ENGINE_PROTOCOL,
    stage: stage.name,
    uses: stage.uses,
    params: keyedParams(stage),
    inputs,
    code: graph.modules,
    npm: graph.npm,
    runtime,
    deno: Deno.version.deno,
    platform: currentPlatform(),
  };
}
