/**
 * What the comparison commands (`exp show`, `metrics diff`, `params diff`, `exp plot`) compare:
 * configs and experiments resolved to their params (every stage param as `stage.key`), their
 * last complete run's lock file and metrics, and which params differ between them.
 *
 * @module
 */
import { relative } from "node:path";
import { loadPipeline } from "../config/config.ts";
import {
  byName,
  findConfig,
  listExperiments,
  readExperiment,
  resolveTarget,
} from "../config/experiments.ts";
import { UsageError } from "../config/usage_error.ts";
import type { Layout } from "../store/layout.ts";
import { type LockFile, readLock } from "../store/lockfile.ts";
import { flatten } from "./flatten.ts";
import { classifyMetrics, lockMetrics, type MetricClass, paramNames } from "./metric_keys.ts";

/** One config or experiment being compared. */
export interface Compared {
  /** As named on the command line (experiment name, or config path). */
  name: string;
  /** Its base config, relative to the project root. */
  config: string;
  /** Its outputs are in `artifacts/out/<published>/`. */
  published: string;
  /** Its `--set` overrides (none for a config). */
  sets: string[];
  /** `stage.param` → value, every param of every stage. */
  params: Map<string, unknown>;
  /** The last complete run, if any. */
  lock?: LockFile;
  /** `stage.path` → value of its metrics (empty without a run). */
  metrics: Map<string, unknown>;
}

/** Resolves and loads each name (a config file or an experiment). */
export async function loadCompared(layout: Layout, names: string[]): Promise<Compared[]> {
  return await Promise.all(names.map(async (name) => {
    const isConfig = await findConfig(layout, name) !== undefined;
    const t = await resolveTarget(layout, name);
    const p = await loadPipeline(t.config, {
      sets: t.sets,
      stagesRoot: layout.stages,
      cache: layout,
    });
    const params = new Map<string, unknown>();
    for (const s of p.stages) {
      for (const [k, v] of flatten(s.params as Record<string, unknown>, `${s.name}.`)) {
        params.set(k, v);
      }
    }
    const lock = await readLock(t.lock);
    return {
      name,
      config: relative(layout.root, t.config),
      published: isConfig ? p.name : name,
      sets: t.sets,
      params,
      lock,
      metrics: lock ? lockMetrics(lock) : new Map(),
    };
  }));
}

/**
 * The names `exp show` compares: the named experiments (a sweep's name stands for its
 * experiments), every experiment when none is named; each preceded by its base configs.
 */
export async function showNames(
  layout: Layout,
  names: string[],
  o: { withConfigs: boolean } = { withConfigs: true },
): Promise<string[]> {
  const all = await listExperiments(layout);
  const chosen = names.length ? [] : all;
  for (const n of names) {
    const exp = await readExperiment(layout, n);
    const members = exp ? [exp] : all.filter((e) => e.sweep === n);
    if (!members.length) {
      throw new UsageError(
        `no experiment or sweep named "${n}"` +
          (all.length ? ` (experiments: ${all.map((e) => e.name).join(", ")})` : " (none yet)"),
      );
    }
    chosen.push(...members.filter((m) => !chosen.includes(m)));
  }
  const configs = o.withConfigs ? [...new Set(chosen.map((e) => e.config))].sort(byName) : [];
  return [...configs, ...chosen.map((e) => e.name).sort(byName)];
}

/** The `stage.param` keys whose values differ between the rows, in config order. */
export function differingParams(rows: Compared[]): string[] {
  const keys = [...new Set(rows.flatMap((r) => [...r.params.keys()]))];
  return keys.filter((k) => new Set(rows.map((r) => JSON.stringify(r.params.get(k)))).size > 1);
}

/** Every metric key of the rows with its class (params of any row count as params). */
export function metricClasses(rows: Compared[]): Map<string, MetricClass> {
  const keys = [...new Set(rows.flatMap((r) => [...r.metrics.keys()]))];
  const names = new Set(rows.flatMap((r) => r.lock ? [...paramNames(r.lock)] : []));
  return classifyMetrics(keys, names);
}

/** A one-line note when the experiments compared have different base configs, else undefined. */
export function baseConfigNote(rows: Compared[]): string | undefined {
  const configs = new Set(rows.map((r) => r.config));
  if (configs.size < 2) return undefined;
  return `note: different base configs: ${rows.map((r) => `${r.name} on ${r.config}`).join(", ")}`;
}
