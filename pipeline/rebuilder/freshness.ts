/**
 * The one freshness decision: `FreshnessLookup.lookup(stage)` says whether a stage is up to
 * date (its key has a trace whose objects are intact) or stale, and why, as typed reasons.
 * `run` asks it before building each stage, `status` and `run --dry-run` ask it for every
 * stage without running any; all three therefore agree.
 *
 * Stale reasons compare the current fingerprint with the run recorded in the config's lock
 * file: field by field against that run's trace when it is in the cache, else against what the
 * lock itself records (params, upstream outputs, code digest, runtime, versions), so a lock
 * written on another machine names the runtime setting that differs.
 *
 * @module
 */
import type { StageSpec } from "../config/config.ts";
import type { Cache } from "../store/cache.ts";
import type { LockedStage, LockFile } from "../store/lockfile.ts";
import type { Trace } from "../store/trace.ts";
import {
  cacheKey,
  codeDigest,
  type Fingerprint,
  fingerprintChanges,
  gatherFingerprint,
  inputChanges,
  type InputFingerprint,
  keyedOutputs,
  keyedParams,
  type KnownOutputs,
  npmChanges,
  paramChanges,
  runtimeChanges,
  volatileOutputs,
} from "./fingerprint.ts";
import type { ModuleGraphs } from "./module_graph.ts";
import type { FreshNote, StaleReason } from "./reasons.ts";

/** The verdict on one stage. */
export type Freshness =
  | {
    state: "fresh";
    key: string;
    fingerprint: Fingerprint;
    /** `fingerprint.code` digested once (`StageProvenance.codeDigest`). */
    codeDigest: string;
    /** The cached result, every object verified. */
    trace: Trace;
    notes: FreshNote[];
  }
  | {
    state: "stale";
    /** Undefined while an upstream stage is stale (its outputs, so this key, are unknown). */
    key?: string;
    fingerprint: Fingerprint;
    codeDigest: string;
    /** Never empty. */
    reasons: StaleReason[];
  };

/** What a lookup consults. */
export interface LookupOptions {
  cache: Cache;
  graphs: ModuleGraphs;
  /** The config's lock file (what the reasons compare against), if there is one. */
  lock?: LockFile;
  /** true: every stage is stale; a stage name: that stage is. */
  force?: boolean | string;
  /** Re-hash every cached output instead of trusting the verification memo (`check`). */
  verifyContent?: boolean;
}

/**
 * Decides freshness stage by stage, in topological order. It remembers each verdict's outputs
 * (a fresh stage's cached ones; a stale stage's locked ones, for its dependants' reasons) until
 * `settle` records what a run actually produced.
 */
export class FreshnessLookup {
  readonly #o: LookupOptions;
  readonly #known: KnownOutputs = new Map();
  readonly #stale = new Set<string>();
  /** By stale stage: every stale stage upstream of it. */
  readonly #staleAbove = new Map<string, Set<string>>();

  constructor(o: LookupOptions) {
    this.#o = o;
  }

  /** The outputs known for every stage looked up or settled so far. */
  get known(): KnownOutputs {
    return this.#known;
  }

  /** Whether `stage` is up to date, and why not. */
  async lookup(stage: StageSpec): Promise<Freshness> {
    const locked = this.#o.lock?.stages[stage.name];
    const volatile = volatileOutputs(stage);
    const upstream = [...new Set(Object.values(stage.needs).flat())];
    const staleUp = upstream.filter((u) => this.#stale.has(u));
    const runtime = await stage.kind.runtime?.(stage.params, stage.resources) ?? {};
    const fingerprint = await gatherFingerprint(stage, this.#known, this.#o.graphs, runtime);
    const digest = codeDigest(fingerprint.code);
    const key = staleUp.length ? undefined : cacheKey(fingerprint);
    const verdict = key ? await this.#cached(stage, key) : undefined;
    if (verdict?.trace) {
      this.#known.set(stage.name, { outputs: verdict.trace.outputs, volatile });
      const notes: FreshNote[] = locked && locked.key !== key
        ? [{ kind: "lock-outdated", lockedKey: locked.key }]
        : [];
      const origin = this.#o.cache.origin?.(key!);
      if (origin) notes.push({ kind: "remote", ...origin });
      return {
        state: "fresh",
        key: key!,
        fingerprint,
        codeDigest: digest,
        trace: verdict.trace,
        notes,
      };
    }
    this.#stale.add(stage.name);
    const above = new Set(staleUp.flatMap((u) => [u, ...this.#staleAbove.get(u) ?? []]));
    this.#staleAbove.set(stage.name, above);
    this.#known.set(stage.name, locked && { outputs: locked.outputs, volatile });
    // Only the nearest: a stale upstream that is itself above another one is not repeated.
    const nearest = staleUp.filter((u) => !staleUp.some((v) => this.#staleAbove.get(v)?.has(u)));
    const reasons: StaleReason[] = nearest.map((s) => ({ kind: "upstream-stale", stage: s }));
    if (verdict?.reason) reasons.push(verdict.reason);
    else reasons.push(...await this.#whyChanged(stage, locked, fingerprint, digest, staleUp));
    if (!reasons.length) reasons.push({ kind: "no-cached-result" });
    return { state: "stale", key, fingerprint, codeDigest: digest, reasons };
  }

  /** Records the outputs a run of `stage` produced (its dependants' inputs). */
  settle(stage: StageSpec, outputs: Record<string, string>): void {
    this.#stale.delete(stage.name);
    this.#staleAbove.delete(stage.name);
    this.#known.set(stage.name, { outputs, volatile: volatileOutputs(stage) });
  }

  /** The intact trace of `key`, or the reason there is none that counts (forced, bad object). */
  async #cached(
    stage: StageSpec,
    key: string,
  ): Promise<{ trace?: Trace; reason?: StaleReason } | undefined> {
    const { force, cache } = this.#o;
    if (force === true || force === stage.name) return { reason: { kind: "forced" } };
    const trace = await cache.getTrace(key);
    if (!trace) return undefined;
    for (const [file, digest] of Object.entries(trace.outputs)) {
      const state = await cache.verify(digest, { content: this.#o.verifyContent });
      if (state !== "ok") return { reason: { kind: "output-bad", file, digest, state } };
    }
    return { trace };
  }

  /** Reasons against the run recorded in the lock file. */
  async #whyChanged(
    stage: StageSpec,
    locked: LockedStage | undefined,
    fp: Fingerprint,
    digest: string,
    staleUp: string[],
  ): Promise<StaleReason[]> {
    if (!locked) return [{ kind: "never-run" }];
    const before = await this.#o.cache.getTrace(locked.key, { localOnly: true });
    const reasons = before
      ? fingerprintChanges(before.fingerprint, fp)
      : this.#lockChanges(stage, locked, fp, digest);
    // Inputs from stale upstream stages are not known yet; that reason is already given.
    const known = reasons.filter((r) => !(r.kind === "input-changed" && staleUp.includes(r.stage)));
    if (!before && !known.length) return [{ kind: "locked-run-not-cached", key: locked.key }];
    return known;
  }

  /** What differs from the lock's own record when the locked run's trace is not here. */
  #lockChanges(
    stage: StageSpec,
    locked: LockedStage,
    fp: Fingerprint,
    digest: string,
  ): StaleReason[] {
    const lock = this.#o.lock!;
    const lockedInputs: Record<string, InputFingerprint[]> = {};
    for (const [input, ups] of Object.entries(stage.needs)) {
      lockedInputs[input] = ups.map((up) => {
        const entry = lock.stages[up];
        const volatile = this.#known.get(up)?.volatile ?? [];
        return { stage: up, outputs: keyedOutputs(entry && { outputs: entry.outputs, volatile }) };
      });
    }
    // The lock keeps one version map for all its stages, listing every version of a package
    // that stages resolve differently: this stage's versions are unchanged when it lists each.
    const lockedVersions = Object.fromEntries(
      Object.entries(fp.npm).map(([pkg, now]) => {
        const listed = new Set(lock.versions[pkg]?.split(",") ?? []);
        return [pkg, now.split(",").every((v) => listed.has(v)) ? now : lock.versions[pkg]];
      }),
    ) as Record<string, string>;
    const reasons: StaleReason[] = [
      ...paramChanges(keyedParams({ kind: stage.kind, params: locked.params }), fp.params),
      ...inputChanges(lockedInputs, fp.inputs),
    ];
    if (locked.codeDigest !== digest) {
      reasons.push({ kind: "code-changed", old: locked.codeDigest, new: digest });
    }
    reasons.push(...npmChanges(lockedVersions, fp.npm));
    reasons.push(...runtimeChanges(locked.runtime, fp.runtime));
    const deno = lock.versions.deno;
    if (deno && deno !== fp.deno) {
      reasons.push({ kind: "contract-changed", field: "deno", old: deno, new: fp.deno });
    }
    return reasons;
  }
}
