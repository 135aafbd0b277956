/**
 * `--sweep KEY=V1,V2,…` (or `KEY=[V1, V2]`, a YAML flow list): the grid of experiments a sweep
 * makes, one per combination of every swept key's values, each named `NAME-<suffix>` after the
 * values it takes (`k-components=5`, `k-components=5,epochs=2`) and defined by `--set`
 * overrides. `--set` itself stays single-valued, so a list-typed param is never a sweep.
 *
 * @module
 */
import { parse } from "yaml";
import { UsageError } from "./usage_error.ts";

/** One parsed `--sweep` argument. */
export interface Sweep {
  /** The dotted key, as for `--set` (e.g. `stages.train_llgae.with.components`). */
  key: string;
  /** Each value's text, as a `--set` value (YAML). */
  values: string[];
}

/** One experiment of a sweep. */
export interface SweepPoint {
  /** `components=5`, or `components=5,epochs=2` for two swept keys. */
  suffix: string;
  /** The `--set` overrides of this combination, one per swept key. */
  sets: string[];
}

const EXAMPLE = "--sweep stages.train_llgae.with.components=5,11,20 (or =[5, 11, 20])";

/** Parses `KEY=V1,V2,…` or `KEY=[V1, V2, …]`; throws a UsageError naming the argument. */
export function parseSweep(arg: string): Sweep {
  const eq = arg.indexOf("=");
  const key = eq < 0 ? "" : arg.slice(0, eq).trim();
  if (!key) throw new UsageError(`bad --sweep "${arg}": no KEY= found; expected e.g. ${EXAMPLE}`);
  const text = arg.slice(eq + 1).trim();
  let values: string[];
  if (text.startsWith("[")) {
    let list: unknown;
    try {
      list = parse(text);
    } catch (e) {
      throw new UsageError(
        `bad --sweep "${arg}": the list does not parse as YAML (${
          (e as Error).message.split("\n")[0]
        }); expected e.g. ${EXAMPLE}`,
      );
    }
    if (!Array.isArray(list)) {
      throw new UsageError(`bad --sweep "${arg}": expected a YAML list, e.g. ${EXAMPLE}`);
    }
    values = list.map((v) => JSON.stringify(v));
  } else {
    values = text.split(",").map((v) => v.trim());
  }
  if (values.length === 0 || values.some((v) => v === "")) {
    throw new UsageError(`bad --sweep "${arg}": an empty value; expected e.g. ${EXAMPLE}`);
  }
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) {
    throw new UsageError(`bad --sweep "${arg}": value ${dup} is listed twice`);
  }
  return { key, values };
}

/**
 * The grid of `sweeps` (first key varies slowest). Throws when a key is swept twice, or is
 * also given by `--set` (`setKeys`).
 */
export function sweepGrid(sweeps: Sweep[], setKeys: string[] = []): SweepPoint[] {
  const keys = sweeps.map((s) => s.key);
  for (const [i, k] of keys.entries()) {
    if (keys.indexOf(k) !== i) throw new UsageError(`--sweep ${k} is given twice; give it once`);
    if (setKeys.includes(k)) {
      throw new UsageError(`${k} is given by both --set and --sweep; drop one of them`);
    }
  }
  const labels = shortLabels(keys);
  let points: SweepPoint[] = [{ suffix: "", sets: [] }];
  for (const [i, s] of sweeps.entries()) {
    points = points.flatMap((p) =>
      s.values.map((v) => ({
        suffix: `${p.suffix}${p.suffix ? "," : ""}${labels[i]}=${nameSafe(v)}`,
        sets: [...p.sets, `${s.key}=${v}`],
      }))
    );
  }
  const seen = new Set<string>();
  for (const p of points) {
    if (seen.has(p.suffix)) {
      throw new UsageError(
        `--sweep values give two experiments the same name suffix "${p.suffix}"; ` +
          `use values that differ in letters or digits`,
      );
    }
    seen.add(p.suffix);
  }
  return points;
}

/** The shortest unique trailing part of each dotted key, `with` dropped (`components`). */
function shortLabels(keys: string[]): string[] {
  const parts = keys.map((k) => k.split(".").filter((p) => p !== "with" && p !== "stages"));
  return parts.map((p) => {
    for (let n = 1; n <= p.length; n++) {
      const label = p.slice(-n).join(".");
      if (parts.every((q) => q === p || q.slice(-n).join(".") !== label)) return label;
    }
    return p.join(".");
  });
}

/** A value as it may appear in an experiment name. */
function nameSafe(v: string): string {
  return v.replace(/^"|"$/g, "").replace(/[^A-Za-z0-9_.+-]+/g, "_").replace(/^_+|_+$/g, "") ||
    "_";
}
