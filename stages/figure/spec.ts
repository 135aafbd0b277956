/**
 * The figure's layout as a Vega-Lite spec: a grid of test images (one row of originals, one row
 * of reconstructions per model, the same images in every row), the component means of each
 * mixture model labelled with their majority class, and test-MSE training curves with
 * reference lines.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { FONT_FAMILY } from "./font.ts";

/** One row of images, all of the same side length (pixels in the SVG). */
export interface ImageRow {
  /** Row label, e.g. `Original` or `LLGAE (K = 11)`. */
  label: string;
  /** PNG data URIs, one per column. */
  images: string[];
}

/** The component means of one mixture model. */
export interface MeansPanel {
  /** Panel title (short: vega estimates text width without a canvas, generously). */
  title: string;
  /** One line under the title. */
  subtitle: string;
  /** One cell per component: PNG data URI and a two-line label (`k=1` and its class). */
  cells: { uri: string; label: string; caption: string }[];
}

/** One point of a training curve. */
export interface CurvePoint {
  model: string;
  epoch: number;
  test_mse: number;
}

/** A horizontal reference line on a training-curve panel. */
export interface Reference {
  label: string;
  value: number;
}

/** A published number at a given epoch, marked as a point. */
export interface EpochMark {
  label: string;
  epoch: number;
  value: number;
}

/** One panel of training curves (one model family, so its y range fits its curves). */
export interface CurvePanel {
  title: string;
  points: CurvePoint[];
  references: Reference[];
  marks: EpochMark[];
}

/** Everything the figure shows. */
export interface FigureContent {
  title: string;
  /** Lines under the title. */
  subtitle: string[];
  /** Column headers of the image grid (the class of each column's test image). */
  columns: string[];
  rows: ImageRow[];
  means: MeansPanel[];
  curves: CurvePanel[];
  /** Side of one displayed image in SVG pixels. */
  cell: number;
}

const GAP = 6;

function gridPanel(content: FigureContent): Record<string, unknown> {
  const values = content.rows.flatMap((row) =>
    row.images.map((url, j) => ({ row: row.label, column: j, url }))
  );
  const headers = JSON.stringify(content.columns);
  return {
    title: {
      text: "Test images and their reconstructions (same image in every row)",
      anchor: "start",
    },
    data: { values },
    mark: { type: "image", width: content.cell, height: content.cell, smooth: false },
    width: { step: content.cell + GAP },
    height: { step: content.cell + GAP },
    encoding: {
      x: {
        field: "column",
        type: "ordinal",
        title: null,
        axis: {
          orient: "top",
          labelAngle: 0,
          labelExpr: `${headers}[datum.value]`,
          ticks: false,
          domain: false,
          labelFontSize: 11,
        },
      },
      y: {
        field: "row",
        type: "ordinal",
        sort: content.rows.map((row) => row.label),
        title: null,
        axis: { ticks: false, domain: false, labelFontSize: 12, labelLimit: 340 },
      },
      url: { field: "url", type: "nominal" },
    },
  };
}

/** Component means per row of the means panel; more components wrap onto further rows. */
const MEANS_PER_ROW = 10;
/** Room under each mean for its two label lines. */
const LABEL_HEIGHT = 32;

function meansPanel(panel: MeansPanel, cell: number): Record<string, unknown> {
  const values = panel.cells.map((c, k) => ({
    x: (k % MEANS_PER_ROW) * (cell + GAP),
    y: Math.floor(k / MEANS_PER_ROW) * (cell + LABEL_HEIGHT),
    url: c.uri,
    label: c.label,
    caption: c.caption,
  }));
  const rows = Math.ceil(panel.cells.length / MEANS_PER_ROW);
  // Pixel positions (scale null): the wrap is ours, not an axis's.
  const at = {
    x: { field: "x", type: "quantitative", scale: null, axis: null },
    y: { field: "y", type: "quantitative", scale: null, axis: null },
  };
  const text = (field: string, dy: number) => ({
    mark: { type: "text", align: "center", baseline: "top", fontSize: 10, dx: cell / 2, dy },
    encoding: { ...at, text: { field } },
  });
  return {
    title: { text: panel.title, subtitle: panel.subtitle, anchor: "start" },
    data: { values },
    width: Math.min(panel.cells.length, MEANS_PER_ROW) * (cell + GAP) - GAP,
    height: rows * (cell + LABEL_HEIGHT),
    layer: [
      {
        mark: {
          type: "image",
          width: cell,
          height: cell,
          align: "left",
          baseline: "top",
          smooth: false,
        },
        encoding: { ...at, url: { field: "url", type: "nominal" } },
      },
      text("label", cell + 3),
      text("caption", cell + 16),
    ],
  };
}

/** Epoch ticks of the symlog axis. */
const EPOCH_TICKS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 540, 1000];

/**
 * One panel of training curves: epoch on a symlog axis (epoch 0, the initial parameters, and the
 * note's epoch 540 both fit), test MSE on a log axis when it spans more than 1.5× (a random start
 * falls from thousands), else linear; reference lines dashed and labelled above the curves,
 * published points as black diamonds, the legend under the plot.
 */
function curvesPanel(panel: CurvePanel, width: number): Record<string, unknown> {
  const trained = panel.points.filter((p) => p.epoch > 0).map((p) => p.test_mse);
  const starts = panel.points.filter((p) => p.epoch === 0).map((p) => p.test_mse);
  const fixed = [
    ...trained,
    ...panel.references.map((r) => r.value),
    ...panel.marks.map((m) => m.value),
  ];
  let hi = Math.max(...fixed);
  // A start far above everything after it (a random init at ~7000) would flatten the curves:
  // it is left out of the plot and named in the panel's subtitle instead.
  const offScale = starts.filter((v) => v > 2 * hi);
  hi = Math.max(hi, ...starts.filter((v) => v <= 2 * hi));
  const lo = Math.min(...fixed, ...starts);
  const log = hi / lo > 1.5;
  const pad = Math.max(0.5, (hi - lo) * 0.06);
  const y = {
    type: "quantitative",
    title: "test MSE (per pixel, 0–255 scale)",
    scale: log
      ? { type: "log", domain: [lo / 1.03, hi * 1.05], nice: false }
      : { domain: [lo - pad, hi + pad], nice: false, zero: false },
  };
  const maxEpoch = Math.max(
    ...panel.points.map((p) => p.epoch),
    ...panel.marks.map((m) => m.epoch),
  );
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch (symlog scale)",
    scale: { type: "symlog", constant: 1, domain: [0, maxEpoch], nice: false },
    axis: { values: EPOCH_TICKS.filter((t) => t <= maxEpoch), format: "d" },
  };
  const layers: Record<string, unknown>[] = [
    {
      data: { values: panel.points.filter((p) => !offScale.includes(p.test_mse) || p.epoch > 0) },
      mark: { type: "line", point: panel.points.length <= 120, strokeWidth: 2 },
      encoding: {
        x,
        y: { ...y, field: "test_mse" },
        color: {
          field: "model",
          type: "nominal",
          title: null,
          legend: { orient: "bottom", direction: "vertical", labelLimit: 420 },
        },
      },
    },
  ];
  if (panel.references.length > 0) {
    layers.push(
      {
        data: { values: panel.references },
        mark: { type: "rule", strokeDash: [6, 3], strokeWidth: 1.5, color: "#000000" },
        encoding: { y: { ...y, field: "value" } },
      },
      {
        data: { values: panel.references },
        mark: { type: "text", align: "right", baseline: "bottom", dy: -3, color: "#000000" },
        encoding: { y: { ...y, field: "value" }, x: { value: width }, text: { field: "label" } },
      },
    );
  }
  if (panel.marks.length > 0) {
    layers.push(
      {
        data: { values: panel.marks },
        mark: { type: "point", shape: "diamond", filled: true, size: 110, color: "#000000" },
        encoding: { x: { ...x, field: "epoch" }, y: { ...y, field: "value" } },
      },
      {
        data: { values: panel.marks },
        mark: { type: "text", align: "right", baseline: "bottom", dx: -6, dy: -10 },
        encoding: {
          x: { ...x, field: "epoch" },
          y: { ...y, field: "value" },
          text: { field: "label" },
        },
      },
    );
  }
  const title = offScale.length === 0 ? panel.title : {
    text: panel.title,
    subtitle: `epoch 0 (initial parameters) at ${
      offScale.map((v) => v.toFixed(1)).join(", ")
    }, above the plotted range`,
  };
  return {
    title: { ...(typeof title === "string" ? { text: title } : title), anchor: "start" },
    width,
    height: 250,
    layer: layers,
    resolve: { scale: { color: "independent" } },
  };
}

/** The Vega-Lite spec of the whole figure. */
export function figureSpec(content: FigureContent): TopLevelSpec {
  const gridWidth = content.columns.length * (content.cell + GAP);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: content.title,
      subtitle: content.subtitle,
      anchor: "start",
      fontSize: 18,
      offset: 12,
      frame: "bounds",
    },
    padding: 16,
    background: "white",
    config: {
      font: FONT_FAMILY,
      view: { stroke: null },
      title: { fontSize: 14, subtitleFontSize: 12, subtitleColor: "#444444", frame: "group" },
      axis: { labelFontSize: 11, titleFontSize: 12 },
    },
    spacing: 28,
    resolve: { legend: { color: "independent" } },
    vconcat: [
      gridPanel(content),
      ...content.means.map((panel) => meansPanel(panel, content.cell)),
      {
        hconcat: content.curves.map((panel) =>
          curvesPanel(panel, (gridWidth - 140) / Math.max(1, content.curves.length) - 60)
        ),
        spacing: 60,
        resolve: { scale: { color: "independent", y: "independent" } },
      },
    ],
  } as unknown as TopLevelSpec; // panels are built as plain objects; vega-lite's compile checks them
}
