/**
 * What a run would do, without running anything: the freshness of every stage, in run order,
 * from the same `FreshnessLookup` that `run` consults. Used by `status` and `run --dry-run`.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";
import type { RemoteSettings } from "../config/remote.ts";
import type { Cache } from "../store/cache.ts";
import type { Layout } from "../store/layout.ts";
import type { LockFile } from "../store/lockfile.ts";
import { LocalStore } from "../store/objects.ts";
import { openCache } from "./open_cache.ts";
import { type Freshness, FreshnessLookup } from "./freshness.ts";
import { moduleGraphs } from "./module_graph.ts";

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
  /** A remote cache: results found there count as available (nothing is downloaded). */
  remote?: RemoteSettings;
  /** Receives the remote's warnings; default `console.warn`. */
  onWarning?(message: string): void;
  /** Plan against this cache instead (e.g. one that pulls what it finds: `pipeline pull`). */
  cache?: Cache;
}

/** Plans every stage of the pipeline against the cache and the lock file. */
export async function planPipeline(o: PlanOptions): Promise<StagePlan[]> {
  const graphs = moduleGraphs(o.layout.root, o.layout.graphs);
  const cache = o.cache ?? openCache({
    layout: o.layout,
    store: new LocalStore(o.layout.objects),
    remote: o.remote,
    mode: "peek",
    onWarning: o.onWarning ?? ((message) => console.warn(`warning: ${message}`)),
  });
  const lookup = new FreshnessLookup({
    cache,
    graphs,
    lock: o.lock,
    force: o.force,
  });
  const plans: StagePlan[] = [];
  for (const stage of o.pipeline.stages) {
    plans.push({ stage: stage.name, uses: stage.uses, freshness: await lookup.lookup(stage) });
  }
  await cache.flush();
  await graphs.save();
  return plans;
}
