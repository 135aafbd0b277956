/**
 * `exp plot NAME… [-o file]`: the experiments' training curves overlaid and their final test
 * MSE, written as PNG and SVG by the figure stage's renderer (Vega-Lite → SVG → resvg).
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { renderFigure } from "../../stages/figure/render.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import type { Layout } from "../store/layout.ts";
import { loadCompared } from "./compare.ts";
import { curvesSpec, readCurves } from "./exp_curves.ts";

/** Renders the plot of `names`; returns the paths written (relative to the cwd). */
export async function writeExperimentPlot(
  layout: Layout,
  names: string[],
  output?: string,
): Promise<{ png: string; svg: string; missing: string[] }> {
  const rows = await loadCompared(layout, names);
  const curves = await readCurves(layout, rows);
  const figure = await renderFigure(curvesSpec(curves, "test MSE per epoch"));
  const stem = (output ?? join(layout.artifacts, "plots", "experiments")).replace(
    /\.(png|svg)$/,
    "",
  );
  await Deno.mkdir(dirname(stem) || ".", { recursive: true });
  const png = `${stem}.png`;
  const svg = `${stem}.svg`;
  await writeFileAtomic(png, figure.png);
  await writeFileAtomic(svg, figure.svg);
  return {
    png: relative(Deno.cwd(), png),
    svg: relative(Deno.cwd(), svg),
    missing: curves.missing,
  };
}
