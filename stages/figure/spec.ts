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
  /** Row label, e.g. `Original` or `LLGAE K=11 (train_llgae)`. */
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

/** A horizontal reference line on the training-curve panel. */
export interface Reference {
  label: string;
  value: number;
}

/** Everything the figure shows. */
export interface FigureContent {
  title: string;
  subtitle: string;
  /** Column headers of the image grid (the class of each column's test image). */
  columns: string[];
  rows: ImageRow[];
  means: MeansPanel[];
  curves: CurvePoint[];
  references: Reference[];
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
        axis: { ticks: false, domain: false, labelFontSize: 12, labelLimit: 260 },
      },
      url: { field: "url", type: "nominal" },
    },
  };
}

function meansPanel(panel: MeansPanel, cell: number): Record<string, unknown> {
  const values = panel.cells.map((c, k) => ({ k, row: "mean μ_k", url: c.uri }));
  const labels = JSON.stringify(panel.cells.map((c) => [c.label, c.caption]));
  return {
    title: { text: panel.title, subtitle: panel.subtitle, anchor: "start" },
    data: { values },
    mark: { type: "image", width: cell, height: cell, smooth: false },
    width: { step: cell + GAP },
    height: { step: cell + GAP },
    encoding: {
      y: {
        field: "row",
        type: "ordinal",
        title: null,
        axis: { ticks: false, domain: false, labelFontSize: 12 },
      },
      x: {
        field: "k",
        type: "ordinal",
        title: null,
        axis: {
          labelAngle: 0,
          labelExpr: `${labels}[datum.value]`,
          ticks: false,
          domain: false,
          labelFontSize: 10,
          labelLimit: cell + GAP,
        },
      },
      url: { field: "url", type: "nominal" },
    },
  };
}

function curvesPanel(content: FigureContent, width: number): Record<string, unknown> {
  const all = [...content.curves.map((p) => p.test_mse), ...content.references.map((r) => r.value)];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = Math.max(1, (hi - lo) * 0.08);
  const y = {
    type: "quantitative",
    scale: { domain: [Math.floor(lo - pad), Math.ceil(hi + pad)], nice: false },
  };
  return {
    title: { text: "Test MSE during training", anchor: "start" },
    width,
    height: 260,
    layer: [
      {
        data: { values: content.curves },
        mark: { type: "line", point: true, strokeWidth: 2 },
        encoding: {
          x: {
            field: "epoch",
            type: "quantitative",
            title: "epoch",
            scale: { zero: false, nice: false },
            axis: { tickMinStep: 1, format: "d" },
          },
          y: { ...y, field: "test_mse", title: "test MSE (per pixel, 0–255 scale)" },
          color: {
            field: "model",
            type: "nominal",
            title: null,
            legend: { orient: "top-right", labelLimit: 400 },
          },
        },
      },
      {
        data: { values: content.references },
        mark: { type: "rule", strokeDash: [6, 4], color: "#555555" },
        encoding: { y: { ...y, field: "value" } },
      },
      {
        data: { values: content.references },
        mark: {
          type: "text",
          align: "left",
          baseline: "bottom",
          dx: 4,
          dy: -2,
          x: 0,
          color: "#333333",
        },
        encoding: { y: { ...y, field: "value" }, text: { field: "label" } },
      },
    ],
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
      curvesPanel(content, gridWidth),
    ],
  } as unknown as TopLevelSpec; // panels are built as plain objects; vega-lite's compile checks them
}
