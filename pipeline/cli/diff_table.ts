/**
 * The table behind `params diff` and `metrics diff`: which dotted keys differ between two
 * nested records, with the relative change of numbers.
 *
 * @module
 */

/**
 * Flattens `a` and `b` to dotted keys (lists are leaf values) and returns an aligned text
 * table with one row per differing key: key, a's value, b's value, and for two numbers the
 * relative change. Returns `no differences` when nothing differs.
 */
export function diffTable(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  labels: [string, string],
): string {
  const fa = flatten(a);
  const fb = flatten(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])];
  const rows = keys
    .filter((k) => JSON.stringify(fa.get(k)) !== JSON.stringify(fb.get(k)))
    .map((k) => [k, cell(fa.get(k)), cell(fb.get(k)), change(fa.get(k), fb.get(k))]);
  if (rows.length === 0) return "no differences";
  const table = [["key", labels[0], labels[1], "change"], ...rows];
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c])).join(" | ").trimEnd();
  return [line(table[0]), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join(
    "\n",
  );
}

/** Dotted key → leaf value; nested plain objects are descended, lists and scalars are leaves. */
function flatten(obj: Record<string, unknown>, prefix = "", out = new Map<string, unknown>()) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
      flatten(v as Record<string, unknown>, `${key}.`, out);
    } else {
      out.set(key, v);
    }
  }
  return out;
}

function cell(v: unknown): string {
  if (v === undefined) return "(absent)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** `+12.5%`-style relative change from `a` to `b` when both are numbers, else empty. */
function change(a: unknown, b: unknown): string {
  if (typeof a !== "number" || typeof b !== "number") return "";
  if (a === 0) return b === 0 ? "" : "n/a (from 0)";
  const pct = ((b - a) / Math.abs(a)) * 100;
  const digits = Math.abs(pct) >= 100 ? 0 : Math.abs(pct) >= 1 ? 1 : 2;
  return `${pct >= 0 ? "+" : ""}${pct.toFixed(digits)}%`;
}
