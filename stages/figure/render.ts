/**
 * Renders a Vega-Lite spec to SVG (vega's headless SVG renderer) and rasterises that SVG to
 * PNG with resvg, using only the bundled font: no system fonts, no canvas, no browser.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { FONT_FAMILY, fontPath } from "./font.ts";

/** The figure as SVG text and PNG bytes. */
export interface RenderedFigure {
  svg: string;
  png: Uint8Array;
}

/** Renders `spec` to SVG, then to PNG at `scale` × the SVG's pixel size on a white background. */
export async function renderFigure(spec: TopLevelSpec, scale = 2): Promise<RenderedFigure> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontFiles: [fontPath()],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  });
  const png = resvg.render().asPng();
  return { svg, png: new Uint8Array(png) };
}
