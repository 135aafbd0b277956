/**
 * The table behind `params diff` and `metrics diff`: one row per key that differs between two
 * or more configs/experiments, the first one's value, then for each other its value, the
 * absolute and the relative change against the first. Fits a terminal of `width` columns:
 * the absolute change columns give way first, then long keys are shortened in the middle.
 *
 * @module
 */
import { formatValue, renderTable, type TableFormat } from "./table_text.ts";

/** One row: a key and its value in each target (undefined where absent). */
export interface DiffRow {
  key: string;
  values: unknown[];
}

/** How to render the table. */
export interface DiffTableOptions {
  /** The targets' names, in argument order. */
  labels: string[];
  rows: DiffRow[];
  format: TableFormat;
  /** Significant digits of numbers. */
  precision: number;
  /** Terminal columns to fit (text format); default 100. */
  width?: number;
}

/** The rows whose values are not all equal. */
export function differing(rows: DiffRow[]): DiffRow[] {
  return rows.filter((r) => new Set(r.values.map((v) => JSON.stringify(v))).size > 1);
}

/** The table, or `no differences`. */
export function diffTable(o: DiffTableOptions): string {
  if (!o.rows.length) return "no differences";
  const width = o.width ?? 100;
  const build = (withAbs: boolean, keyWidth: number) => {
    const header = ["key", o.labels[0]];
    for (const l of o.labels.slice(1)) header.push(l, ...(withAbs ? ["Δ"] : []), "Δ%");
    const cells = o.rows.map((r) => {
      const row = [shorten(r.key, keyWidth), formatValue(r.values[0], o.precision)];
      for (const v of r.values.slice(1)) {
        row.push(formatValue(v, o.precision));
        const c = change(r.values[0], v);
        if (withAbs) row.push(c ? `${c.abs > 0 ? "+" : ""}${formatValue(c.abs, o.precision)}` : "");
        row.push(c ? c.rel : "");
      }
      return row;
    });
    return renderTable(header, cells, o.format);
  };
  if (o.format !== "text") return build(true, Infinity);
  const widest = (t: string) => Math.max(...t.split("\n").map((l) => l.length));
  // the absolute changes give way first, then long keys are shortened
  for (const withAbs of [true, false]) {
    const full = build(withAbs, Infinity);
    if (widest(full) <= width) return full;
  }
  const full = build(false, Infinity);
  const longest = Math.max(...o.rows.map((r) => r.key.length));
  return build(false, Math.max(16, longest - (widest(full) - width)));
}

/** The rows as JSON for scripts: full precision, changes against the first target. */
export function diffJson(o: { labels: string[]; rows: DiffRow[]; note?: string }): unknown {
  return {
    targets: o.labels,
    note: o.note,
    rows: o.rows.map((r) => ({
      key: r.key,
      values: Object.fromEntries(o.labels.map((l, i) => [l, r.values[i] ?? null])),
      changes: Object.fromEntries(
        o.labels.slice(1).map((l, i) => [l, change(r.values[0], r.values[i + 1]) ?? null]),
      ),
    })),
  };
}

/** Absolute and relative (`+12.5%`) change from `a` to `b` when both are numbers. */
function change(a: unknown, b: unknown): { abs: number; rel: string } | undefined {
  if (typeof a !== "number" || typeof b !== "number") return undefined;
  const abs = b - a;
  if (a === 0) return { abs, rel: b === 0 ? "0%" : "n/a" };
  const pct = (abs / Math.abs(a)) * 100;
  const digits = Math.abs(pct) >= 100 ? 0 : Math.abs(pct) >= 1 ? 1 : 2;
  return { abs, rel: `${pct >= 0 ? "+" : ""}${pct.toFixed(digits)}%` };
}

/** `key` cut in the middle to `max` characters. */
function shorten(key: string, max: number): string {
  if (key.length <= max) return key;
  const head = Math.ceil((max - 1) / 2);
  return `${key.slice(0, head)}…${key.slice(key.length - (max - 1 - head))}`;
}
