/**
 * `exp show --html`: one self-contained page (no network needed to view it): the experiments
 * table, sortable by clicking a column header; the training curves overlaid (inline SVG); and
 * each experiment's figure as an inline thumbnail (PNG data URI).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join, relative } from "node:path";
import { renderFigure } from "../../stages/figure/render.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import type { Layout } from "../store/layout.ts";
import { curvesSpec, readCurves } from "./exp_curves.ts";
import { type ShowTable, statusOf } from "./exp_show.ts";
import { formatValue } from "./table_text.ts";

/** Where and how to write the page. */
export interface PageOptions {
  /** Default `artifacts/experiments.html`. */
  output?: string;
  precision: number;
}

/** Writes the page; returns its path relative to the cwd. */
export async function writeExperimentsPage(
  layout: Layout,
  table: ShowTable,
  o: PageOptions,
): Promise<string> {
  const trained = table.rows.filter((r) =>
    r.lock && Object.values(r.lock.stages).some((s) => s.outputs["history.jsonl"])
  );
  const read = trained.length ? await readCurves(layout, trained) : undefined;
  const curves = read && (await renderFigure(curvesSpec(read, "test MSE per epoch"))).svg;
  const thumbs: { name: string; uri: string }[] = [];
  for (const r of table.rows) {
    const png = await Deno.readFile(join(layout.out, r.published, "figure", "figure.png"))
      .catch(() => undefined);
    if (png) {
      thumbs.push({
        name: r.name,
        uri: `data:image/png;base64,${Buffer.from(png).toString("base64")}`,
      });
    }
  }
  const path = o.output ?? join(layout.artifacts, "experiments.html");
  await writeFileAtomic(
    path,
    experimentsPage(table, {
      curves,
      missing: read?.missing ?? [],
      thumbs,
      precision: o.precision,
    }),
  );
  return relative(Deno.cwd(), path);
}

/** The page's HTML. */
export function experimentsPage(
  t: ShowTable,
  o: {
    /** The overlaid curves as SVG; undefined when no row has a training history. */
    curves?: string;
    /** Rows whose history is not in this cache. */
    missing?: string[];
    thumbs: { name: string; uri: string }[];
    precision: number;
  },
): string {
  const columns = ["name", ...t.params, ...t.metrics, "status"];
  const head = columns.map((c, i) => `<th data-col="${i}">${esc(c)}</th>`).join("");
  const body = t.rows.map((r) => {
    const values: unknown[] = [
      r.name,
      ...t.params.map((k) => r.params.get(k)),
      ...t.metrics.map((k) => r.metrics.get(k)),
      statusOf(r),
    ];
    const cells = values.map((v) => {
      const sort = typeof v === "number" ? ` data-sort="${v}"` : "";
      return `<td${sort}>${esc(formatValue(v, o.precision))}</td>`;
    });
    return `<tr>${cells.join("")}</tr>`;
  }).join("\n");
  const thumbs = o.thumbs.map((th) =>
    `<figure><img alt="figure of ${esc(th.name)}" src="${th.uri}"><figcaption>${
      esc(th.name)
    }</figcaption></figure>`
  ).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiments</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td[data-sort] { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th.asc::after { content: " ▲"; } th.desc::after { content: " ▼"; }
.thumbs { display: flex; flex-wrap: wrap; gap: 16px; }
.thumbs img { width: 280px; border: 1px solid #ddd; }
figure { margin: 0; } figcaption { font-size: 13px; text-align: center; }
</style></head><body>
<h1>Experiments</h1>
<p>Click a column header to sort (again to reverse).</p>
<table id="experiments"><thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table>
<h2>Training curves</h2>
${o.curves ?? "<p>No training curves: no stage of these runs wrote history.jsonl.</p>"}
${
    o.missing?.length
      ? `<p>Not drawn (training history not in this cache): ${esc(o.missing.join(", "))}.</p>`
      : ""
  }
<h2>Figures</h2>
<div class="thumbs">${thumbs || "<p>No figures.</p>"}</div>
<script>
const headers = [...document.querySelectorAll("#experiments th")];
function sortBy(th, asc) {
  const col = Number(th.dataset.col);
  for (const h of headers) h.classList.remove("asc", "desc");
  th.classList.add(asc ? "asc" : "desc");
  const body = document.querySelector("#experiments tbody");
  const key = (tr) => {
    const td = tr.children[col];
    return td.dataset.sort !== undefined ? Number(td.dataset.sort) : td.textContent;
  };
  const rows = [...body.children].sort((a, b) => {
    const x = key(a), y = key(b);
    const c = typeof x === "number" && typeof y === "number"
      ? x - y : String(x).localeCompare(String(y), "en", { numeric: true });
    return asc ? c : -c;
  });
  body.append(...rows);
}
for (const th of headers) {
  th.addEventListener("click", () => sortBy(th, !th.classList.contains("asc")));
}
// a link to a sorted view: page.html#sort=COLUMN or #sort=COLUMN:desc
const wanted = /^#sort=([^:]+)(:desc)?$/.exec(decodeURIComponent(location.hash));
const th = wanted && headers.find((h) => h.textContent === wanted[1]);
if (th) sortBy(th, !wanted[2]);
</script>
</body></html>
`;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
