/**
 * `check`: compares the metrics of a regenerated config with those in its committed lock file.
 * Numbers match when their relative difference |a − b| / max(|a|, |b|) is at most the
 * tolerance (default 1e-6: same code, data and backend give bit-identical numbers, so only
 * float-order differences across CPUs or libraries should ever show up); other values must be
 * equal. Keys that are timings (names ending in `seconds`, `_ms`, `time` or `duration`) are
 * skipped: they differ on every run.
 *
 * @module
 */
import { canonicalJson } from "../../common/canonical_json.ts";
import type { LockFile } from "./lockfile.ts";

/** Default relative tolerance of `check`. */
export const DEFAULT_TOLERANCE = 1e-6;

/** Metric names that are timings and never compared. */
export const TIMING_KEY = /(seconds|_ms|time|duration)$/i;

/** One metric that drifted. */
export interface Drift {
  /** `stage.dotted.key`. */
  key: string;
  locked: unknown;
  now: unknown;
  /** Relative difference for two numbers. */
  rel?: number;
}

/** Every metric of `now` that drifted from `locked` beyond `tolerance`. */
export function metricDrifts(locked: LockFile, now: LockFile, tolerance: number): Drift[] {
  const drifts: Drift[] = [];
  const stages = new Set([...Object.keys(locked.stages), ...Object.keys(now.stages)]);
  for (const stage of stages) {
    const a = leaves(locked.stages[stage]?.metrics, stage);
    const b = leaves(now.stages[stage]?.metrics, stage);
    for (const key of new Set([...a.keys(), ...b.keys()])) {
      if (TIMING_KEY.test(key)) continue;
      const [x, y] = [a.get(key), b.get(key)];
      if (typeof x === "number" && typeof y === "number") {
        const scale = Math.max(Math.abs(x), Math.abs(y));
        const rel = scale === 0 ? 0 : Math.abs(x - y) / scale;
        if (!(rel <= tolerance)) drifts.push({ key, locked: x, now: y, rel });
      } else if (canonicalJson(x) !== canonicalJson(y)) {
        drifts.push({ key, locked: x, now: y });
      }
    }
  }
  return drifts;
}

/** Dotted path → leaf value; arrays are descended by index so each number is compared. */
function leaves(value: unknown, prefix: string, out = new Map<string, unknown>()) {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) leaves(v, `${prefix}.${k}`, out);
  } else if (value !== undefined) {
    out.set(prefix, value);
  }
  return out;
}

/** Stages whose output bytes differ from the lock (informational: metrics decide). */
export function changedOutputs(locked: LockFile, now: LockFile): string[] {
  return Object.keys(now.stages).filter((s) =>
    canonicalJson(locked.stages[s]?.outputs) !== canonicalJson(now.stages[s].outputs)
  );
}
