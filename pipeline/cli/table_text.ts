/**
 * Tables for the terminal, Markdown and CSV, and numbers rounded for people.
 *
 * @module
 */

/** Output formats of the comparison commands. */
export type TableFormat = "text" | "md" | "csv";

/** `v` for a table cell: numbers to `precision` significant digits (integers whole). */
export function formatValue(v: unknown, precision: number): string {
  if (v === undefined) return "—";
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(precision)));
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The table as text (aligned, numbers right-aligned), Markdown or CSV. */
export function renderTable(header: string[], rows: string[][], format: TableFormat): string {
  if (format === "csv") return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n");
  const numeric = header.map((_, c) =>
    rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+(e[-+]?\d+)?%?$|^—?$/.test(r[c] ?? ""))
  );
  if (format === "md") {
    const line = (r: string[]) => `| ${r.map((v) => v.replaceAll("|", "\\|")).join(" | ")} |`;
    const rule = `| ${numeric.map((n) => n ? "---:" : "---").join(" | ")} |`;
    return [line(header), rule, ...rows.map(line)].join("\n");
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((v, c) => numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])).join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}
