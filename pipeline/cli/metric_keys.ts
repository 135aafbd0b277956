/**
 * Which recorded metrics matter: a lock file's `metrics.json` values flattened to dotted keys
 * (`train_llgae.test_mse`) and sorted into headline (test MSE: each trained model's own first),
 * other metrics, detail rows (per-class errors, component usage), params echoed by a stage
 * (`train_llgae.components`) and timings (`train_seconds`).
 *
 * @module
 */
import type { LockFile } from "../store/lockfile.ts";
import { flatten } from "./flatten.ts";

/** How a metric is shown: headline first; detail with `--all`; timing with `--timings`; param never. */
export type MetricClass = "headline" | "metric" | "detail" | "timing" | "param";

const ORDER: MetricClass[] = ["headline", "metric", "detail", "timing", "param"];

/** `{stage}.{path}` → value of every stage's metrics in `lock`. */
export function lockMetrics(lock: LockFile): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [stage, s] of Object.entries(lock.stages)) {
    if (s.metrics === undefined) continue;
    if (typeof s.metrics !== "object" || s.metrics === null || Array.isArray(s.metrics)) {
      out.set(stage, s.metrics);
    } else {
      for (const [k, v] of flatten(s.metrics as Record<string, unknown>, `${stage}.`)) {
        out.set(k, v);
      }
    }
  }
  return out;
}

/** The leaf names of every stage's params in `lock` (what a metric may merely echo). */
export function paramNames(lock: LockFile): Set<string> {
  const names = new Set<string>();
  for (const s of Object.values(lock.stages)) {
    for (const k of flatten((s.params ?? {}) as Record<string, unknown>).keys()) {
      names.add(k.split(".").pop()!);
    }
  }
  return names;
}

/** Sorts metric keys into classes; `keys` are all keys shown together (for duplicates). */
export function classifyMetrics(keys: string[], params: Set<string>): Map<string, MetricClass> {
  const all = new Set(keys);
  const out = new Map<string, MetricClass>();
  for (const key of keys) {
    const parts = key.split(".");
    const leaf = parts[parts.length - 1];
    let cls: MetricClass;
    if (/per_class|usage|majority_class/.test(key)) cls = "detail";
    else if (/test_mse$/.test(leaf)) {
      // evaluate's copy of a trained model's own test MSE is a detail
      const own = parts.length > 2 && all.has(`${parts[parts.length - 2]}.${leaf}`);
      // headline: a trained model's own test MSE (`<stage>.test_mse`)
      cls = own ? "detail" : key === `${parts[0]}.test_mse` ? "headline" : "metric";
    } else if (/seconds|(^|_)ms$|(^|_)time/.test(leaf)) cls = "timing";
    else if (params.has(leaf) || leaf === "backend") cls = "param";
    else cls = "metric";
    out.set(key, cls);
  }
  return out;
}

/** Keys ordered by class, then a trained model's own `<stage>.test_mse` before deeper ones. */
export function orderMetrics(keys: string[], classes: Map<string, MetricClass>): string[] {
  const rank = (k: string) => ORDER.indexOf(classes.get(k) ?? "metric");
  const depth = (k: string) => k.split(".").length;
  return [...keys].sort((a, b) => rank(a) - rank(b) || depth(a) - depth(b));
}
