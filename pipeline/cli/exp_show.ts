/**
 * The `exp show` table: one row per config or experiment; columns = the params that differ
 * between the rows, then the headline metrics (each trained model's test MSE first; every
 * other metric too with `all`), then the status. Rendered as text, Markdown, CSV (rounded) or
 * JSON (full precision).
 *
 * @module
 */
import { UsageError } from "../config/usage_error.ts";
import { type Compared, differingParams, metricClasses } from "./compare.ts";
import { orderMetrics } from "./metric_keys.ts";
import { formatValue, renderTable, type TableFormat } from "./table_text.ts";

/** How to build the table. */
export interface ShowOptions {
  /** A column (metric or param) to sort the rows by, ascending. */
  sort?: string;
  /** Also every non-headline metric (not per-class rows, params or timings). */
  all?: boolean;
}

/** The table: column keys by kind and the rows in display order. */
export interface ShowTable {
  params: string[];
  metrics: string[];
  rows: Compared[];
}

/** `done` with a complete run, else `not run`. */
export function statusOf(row: Compared): string {
  return row.lock ? "done" : "not run";
}

/** Builds the table; throws a UsageError for a `sort` column that does not exist. */
export function showTable(compared: Compared[], o: ShowOptions = {}): ShowTable {
  const params = differingParams(compared);
  const classes = metricClasses(compared);
  const keys = [...classes.keys()];
  const headline = keys.filter((k) => classes.get(k) === "headline");
  const wanted = o.all || !headline.length
    ? keys.filter((k) => classes.get(k) === "headline" || classes.get(k) === "metric")
    : headline;
  const metrics = orderMetrics(wanted, classes);
  let rows = compared;
  if (o.sort) {
    const col = o.sort;
    const isParam = params.includes(col);
    if (!isParam && !keys.includes(col)) {
      throw new UsageError(
        `--sort ${col}: no such metric or param column; columns: ${
          [...params, ...metrics].join(", ") || "(none)"
        }`,
      );
    }
    const value = (r: Compared) => isParam ? r.params.get(col) : r.metrics.get(col);
    rows = [...compared].sort((a, b) => compareValues(value(a), value(b)));
  }
  return { params, metrics, rows };
}

/** Numbers ascending, then text; missing values last. */
function compareValues(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

/** The table as text, Markdown or CSV, numbers to `precision` significant digits. */
export function showText(t: ShowTable, format: TableFormat, precision: number): string {
  const header = ["name", ...t.params, ...t.metrics, "status"];
  const cells = t.rows.map((r) => [
    r.name,
    ...t.params.map((k) => formatValue(r.params.get(k), precision)),
    ...t.metrics.map((k) => formatValue(r.metrics.get(k), precision)),
    statusOf(r),
  ]);
  return renderTable(header, cells, format);
}

/** The table for scripts: full precision, params and metrics by their full keys. */
export function showJson(t: ShowTable): unknown[] {
  return t.rows.map((r) => ({
    name: r.name,
    config: r.config,
    sets: r.sets,
    params: Object.fromEntries(t.params.map((k) => [k, r.params.get(k)])),
    metrics: Object.fromEntries(t.metrics.map((k) => [k, r.metrics.get(k)])),
    status: statusOf(r),
  }));
}
