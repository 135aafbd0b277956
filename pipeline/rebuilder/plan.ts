/**
 * What a run would do, without running anything: the freshness of every stage, in run order,
 * from the same `FreshnessLookup` that `run` consults. Used by `status` and `run --dry-run`.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import { LocalCache } from "../store/cache.ts";
import type { Layout } from "../store/layout.ts";
import type { LockFile } from "../store/lockfile.ts";
import { LocalStore } from "../store/objects.ts";
import { type Freshness, FreshnessLookup } from "./freshness.ts";
import { ModuleGraphs } from "./module_graph.ts";

/** The verdict on one stage. */
export interface StagePlan {
  stage: string;
  uses: string;
  freshness: Freshness;
}

/** How to plan. */
export interface PlanOptions {
  pipeline: Pipeline;
  layout: Layout;
  /** The lock file the reasons compare against. */
  lock?: LockFile;
  /** As `run --force`. */
  force?: boolean | string;
}

/** Plans every stage of the pipeline against the cache and the lock file. */
export async function planPipeline(o: PlanOptions): Promise<StagePlan[]> {
  const store = new LocalStore(o.layout.objects);
  const graphs = new ModuleGraphs(o.layout.root, o.layout.graphs);
  const lookup = new FreshnessLookup({
    cache: new LocalCache(o.layout.cache, store),
    graphs,
    lock: o.lock,
    force: o.force,
  });
  const plans: StagePlan[] = [];
  for (const stage of o.pipeline.stages) {
    plans.push({ stage: stage.name, uses: stage.uses, freshness: await lookup.lookup(stage) });
  }
  await store.flush();
  await graphs.save();
  return plans;
}
