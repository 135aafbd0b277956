/**
 * Renders a Vega-Lite spec to SVG (vega's headless SVG renderer), rasterises that SVG with
 * resvg's WebAssembly build, using only the bundled font (no system fonts, no canvas, no browser,
 * and no native addon, so the figure stage needs no FFI permission), and encodes the pixels as
 * PNG with the runtime's zlib (`png.ts`).
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import { npmPackageDir } from "../lib/npm_dir.ts";
import { FONT_FAMILY, fontPath } from "./font.ts";
import { encodeOpaquePng } from "./png.ts";

let ready: Promise<void> | undefined;

/** Loads resvg's wasm module once per process, from the npm package's own file. */
function resvgReady(): Promise<void> {
  const wasm = `${npmPackageDir("@resvg/resvg-wasm")}index_bg.wasm`;
  ready ??= Deno.readFile(wasm).then(initWasm);
  return ready;
}

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
  await resvgReady();
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    // Nearest-neighbour images: the figure's images are already enlarged pixel by pixel, and
    // resvg takes vega's `image-rendering: optimizeSpeed; image-rendering: pixelated` style for
    // its default, bicubic filtering (~10 ms per image here, 0.4 s of a figure's 41).
    imageRendering: 1,
    font: {
      fontBuffers: [await Deno.readFile(fontPath())],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  });
  const image = resvg.render();
  const png = encodeOpaquePng({ width: image.width, height: image.height, pixels: image.pixels });
  image.free();
  resvg.free();
  return { svg, png };
}
