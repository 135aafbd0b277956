/**
 * The training curves of experiments: each trained model's test MSE per epoch (the init point
 * as epoch 0), read from the `history.jsonl` its last complete run recorded, labelled by the
 * params that differ between the experiments shown; and the Vega-Lite spec that overlays them
 * beside a bar chart of the final test MSE. Rendered by the figure stage's renderer.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { historyLine } from "../../stages/evaluate/training_outputs.ts";
import { parseJson } from "../../stages/evaluate/json_file.ts";
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

/** Reads every trained model's history of every row; throws naming a row without a run. */
export async function readCurves(layout: Layout, rows: Compared[]): Promise<Curves> {
  const store = new LocalStore(layout.objects);
  const labels = seriesLabels(rows);
  const curves: Curves = { points: [], finals: [] };
  for (const [i, r] of rows.entries()) {
    if (!r.lock) throw new UsageError(`${r.name} has no complete run yet; run it first`);
    const trained = Object.entries(r.lock.stages).filter(([, s]) => s.outputs["history.jsonl"]);
    for (const [stage, s] of trained) {
      const series = trained.length > 1 ? `${labels[i]} · ${stage}` : labels[i];
      const path = store.path(s.outputs["history.jsonl"]);
      const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim());
      const history = lines.map((l, n) => parseJson(historyLine, l, `${r.name}/${stage}:${n + 1}`));
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
      `no training history in ${rows.map((r) => r.name).join(", ")}: no stage wrote history.jsonl`,
    );
  }
  return curves;
}

/** Curves overlaid (left) and final test MSE as bars (right). */
export function curvesSpec(c: Curves, title: string): TopLevelSpec {
  const color = { field: "series", type: "nominal", title: "experiment" } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, anchor: "start", fontSize: 15 },
    padding: 16,
    background: "white",
    config: {
      font: FONT_FAMILY,
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
    },
    spacing: 40,
    hconcat: [
      {
        width: 420,
        height: 260,
        data: { values: c.points },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative", title: "epoch (0 = init)" },
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
        width: 220,
        height: 260,
        data: { values: c.finals },
        mark: { type: "bar" },
        encoding: {
          x: { field: "series", type: "nominal", title: null, axis: { labelAngle: -30 } },
          y: { field: "test_mse", type: "quantitative", title: "final test MSE" },
          color: { ...color, legend: null },
        },
      },
    ],
  } as TopLevelSpec;
}
