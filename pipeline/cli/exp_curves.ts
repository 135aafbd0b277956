/**
 * The training curves of experiments: each trained model's test MSE per epoch (the init point
 * as epoch 0), read from the `history.jsonl` its last complete run recorded, labelled by the
 * params that differ between the experiments shown; and the Vega-Lite spec that overlays them
 * beside a bar chart of the final test MSE. Rendered by the figure stage's renderer.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { parseHistory } from "../../stages/train/outputs.ts";
import { FONT_FAMILY } from "../../stages/figure/font.ts";
import { UsageError } from "../config/usage_error.ts";
import type { Layout } from "../store/layout.ts";
import { LocalStore } from "../store/objects.ts";
import { type Compared, differingParams } from "./compare.ts";
import { formatValue } from "./table_text.ts";

/** One point of a curve. */
export interface CurvePoint {
  /** `components=5 · train_llgae` */
  series: string;
  epoch: number;
  test_mse: number;
}

/** The curves and final test MSEs of the experiments. */
export interface Curves {
  points: CurvePoint[];
  finals: { series: string; test_mse: number }[];
  /** Series names in display order. */
  series: string[];
  /** Rows whose history is not in the local cache (a lock from elsewhere): left out. */
  missing: string[];
}

/** `components=5` for each row: its values of the params that differ; the name when none do. */
export function seriesLabels(rows: Compared[]): string[] {
  const keys = differingParams(rows);
  return rows.map((r) =>
    keys.length
      ? keys.map((k) => `${k.split(".").pop()}=${formatValue(r.params.get(k), 4)}`).join(", ")
      : r.name
  );
}

/**
 * Reads every trained model's history of every row; a model whose history is the same in
 * every row (a stage the experiments do not change) is drawn once, as `<stage> (all)`.
 * Throws naming a row without a run.
 */
export async function readCurves(layout: Layout, all: Compared[]): Promise<Curves> {
  const store = new LocalStore(layout.objects);
  const histories = (r: Compared) =>
    Object.entries(r.lock?.stages ?? {}).filter(([, s]) => s.outputs["history.jsonl"]);
  const rows: Compared[] = [];
  const missing: string[] = [];
  for (const r of all) {
    if (!r.lock) throw new UsageError(`${r.name} has no complete run yet; run it first`);
    const here = await Promise.all(
      histories(r).map(([, s]) =>
        Deno.stat(store.path(s.outputs["history.jsonl"])).then(() => true, () => false)
      ),
    );
    if (here.every(Boolean)) rows.push(r);
    else missing.push(r.name);
  }
  const labels = seriesLabels(rows);
  const curves: Curves = { points: [], finals: [], series: [], missing };
  const drawn = new Set<string>();
  for (const [i, r] of rows.entries()) {
    const trained = histories(r);
    for (const [stage, s] of trained) {
      const digest = s.outputs["history.jsonl"];
      const same = rows.every((o) => o.lock!.stages[stage]?.outputs["history.jsonl"] === digest);
      const series = same && rows.length > 1
        ? `${stage} (all)`
        : trained.length > 1
        ? `${labels[i]} · ${stage}`
        : labels[i];
      if (drawn.has(series)) continue;
      const text = await Deno.readTextFile(store.path(digest));
      drawn.add(series);
      curves.series.push(series);
      const history = parseHistory(text, `${r.name}/${stage}`);
      const metrics = (s.metrics ?? {}) as { init_test_mse?: number; test_mse?: number };
      if (!history.some((h) => h.epoch === 0) && typeof metrics.init_test_mse === "number") {
        curves.points.push({ series, epoch: 0, test_mse: metrics.init_test_mse });
      }
      for (const h of history) curves.points.push({ series, epoch: h.epoch, test_mse: h.test_mse });
      const final = metrics.test_mse ?? history.at(-1)?.test_mse;
      if (typeof final === "number") curves.finals.push({ series, test_mse: final });
    }
  }
  if (!curves.points.length) {
    throw new UsageError(
      `no training history in ${rows.map((r) => r.name).join(", ")}: no stage wrote ` +
        `history.jsonl, or its objects are not in this cache (run them here first)`,
    );
  }
  return curves;
}

/** Curves overlaid (left) and final test MSE as bars (right). */
export function curvesSpec(c: Curves, title: string): TopLevelSpec {
  const color = {
    field: "series",
    type: "nominal",
    title: "experiment",
    scale: { domain: c.series },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, anchor: "start", fontSize: 15 },
    padding: 16,
    background: "white",
    config: {
      font: FONT_FAMILY,
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: {
        labelFontSize: 11,
        titleFontSize: 12,
        labelLimit: 320,
        orient: "bottom",
        columns: 3,
      },
    },
    spacing: 40,
    resolve: { scale: { color: "shared" }, legend: { color: "shared" } },
    hconcat: [
      {
        width: 420,
        height: 260,
        data: { values: c.points },
        mark: { type: "line", point: true },
        encoding: {
          x: {
            field: "epoch",
            type: "quantitative",
            title: "epoch (0 = init)",
            axis: { tickMinStep: 1, format: "d" },
          },
          y: {
            field: "test_mse",
            type: "quantitative",
            title: "test MSE per pixel",
            scale: { zero: false },
          },
          color,
        },
      },
      {
        width: 240,
        height: Math.max(120, 22 * c.finals.length),
        data: { values: c.finals },
        mark: { type: "bar" },
        encoding: {
          y: {
            field: "series",
            type: "nominal",
            title: null,
            sort: c.series,
            axis: { labelLimit: 260 },
          },
          x: { field: "test_mse", type: "quantitative", title: "final test MSE" },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}
