/**
 * What a run would do, without running anything: for each stage, up to date (its key has a
 * trace whose objects are intact) or stale, and exactly why — the current fingerprint compared
 * field by field with the trace of the run recorded in the lock file. Used by `status` and
 * `run --dry-run`.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import {
  cacheKey,
  explainChanges,
  type Fingerprint,
  gatherFingerprint,
  type KnownOutputs,
  volatileOutputs,
} from "./fingerprint.ts";
import { ModuleGraphs } from "./module_graph.ts";
import type { LockFile } from "../store/lockfile.ts";
import type { Layout } from "../store/layout.ts";
import { LocalStore } from "../store/objects.ts";
import { readTrace } from "../store/trace.ts";

/** The verdict on one stage. */
export interface StagePlan {
  stage: string;
  uses: string;
  fresh: boolean;
  /** Current cache key (when all upstream stages are fresh, so it is known). */
  key?: string;
  /** Why it is stale (or notes on a fresh stage). */
  reasons: string[];
}

/** Plans every stage of `pipeline` against the cache and the lock file `lock`. */
export async function planPipeline(
  pipeline: Pipeline,
  layout: Layout,
  lock: LockFile | undefined,
  force?: boolean | string,
): Promise<StagePlan[]> {
  const store = new LocalStore(layout.objects);
  const graphs = new ModuleGraphs(layout.root, layout.graphs);
  const known: KnownOutputs = new Map();
  const stale = new Set<string>();
  const plans: StagePlan[] = [];
  for (const stage of pipeline.stages) {
    const locked = lock?.stages[stage.name];
    const volatile = volatileOutputs(stage);
    const upstream = [...new Set(Object.values(stage.needs).flat())];
    const staleUp = upstream.filter((u) => stale.has(u));
    const runtime = await stage.kind.runtime?.(stage.params) ?? {};
    const fp = await gatherFingerprint(stage, known, graphs, runtime);
    const key = staleUp.length ? undefined : cacheKey(fp);
    const reasons: string[] = staleUp.map((u) => `upstream ${u} is stale`);
    let fresh = false;
    if (key) {
      const forced = force === true || force === stage.name;
      const trace = forced ? undefined : await readTrace(layout.cache, key);
      const bad = trace ? await firstBadObject(store, trace.outputs) : undefined;
      if (forced) reasons.push("forced (--force)");
      else if (trace && !bad) {
        fresh = true;
        known.set(stage.name, { outputs: trace.outputs, volatile });
        if (locked && locked.key !== key) {
          reasons.push("cached from another run; lock file not yet updated");
        }
      } else if (bad) reasons.push(`cached output ${bad} is missing or corrupt`);
    }
    if (!fresh) {
      stale.add(stage.name);
      known.set(stage.name, locked && { outputs: locked.outputs, volatile });
      if (!reasons.some((r) => r.startsWith("cached output") || r.startsWith("forced"))) {
        reasons.push(...await whyChanged(layout, locked?.key, fp, staleUp));
      }
      if (reasons.length === 0) reasons.push("no cached result for the current key");
    }
    plans.push({ stage: stage.name, uses: stage.uses, fresh, key, reasons });
  }
  await store.flush();
  await graphs.save();
  return plans;
}

/** Field-by-field reasons against the trace recorded in the lock file. */
async function whyChanged(
  layout: Layout,
  lockedKey: string | undefined,
  fp: Fingerprint,
  staleUpstream: string[],
): Promise<string[]> {
  if (!lockedKey) return ["never run for this config (no entry in its lock file)"];
  const before = await readTrace(layout.cache, lockedKey);
  if (!before) {
    return [
      `the locked run (key ${lockedKey.slice(0, 12)}) is not in the cache (gc'd or never run here)`,
    ];
  }
  const reasons = explainChanges(before.fingerprint, fp);
  // Inputs from stale upstream stages are not known yet; that reason is already given.
  return reasons.filter((r) => !staleUpstream.some((u) => r.includes(`: ${u} outputs changed`)));
}

async function firstBadObject(
  store: LocalStore,
  outputs: Record<string, string>,
): Promise<string | undefined> {
  for (const [file, digest] of Object.entries(outputs)) {
    if (await store.verify(digest) !== "ok") return file;
  }
  return undefined;
}
