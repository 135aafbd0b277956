/**
 * The one font the figure uses, shipped as a TrueType file inside an npm package, so text
 * renders identically on a machine without any system fonts (resvg needs ttf/otf, not woff).
 *
 * @module
 */
// A static edge to the package so Deno installs it with the rest of the module graph.
import "dejavu-fonts-ttf/package.json" with { type: "json" };

/** The font family name written into the SVG and registered with the rasteriser. */
export const FONT_FAMILY = "DejaVu Sans";

/** Absolute path of DejaVuSans.ttf inside the installed `dejavu-fonts-ttf` package. */
export function fontPath(): string {
  const url = new URL(import.meta.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"));
  if (url.protocol !== "file:") {
    throw new Error(
      `font: dejavu-fonts-ttf resolved to ${url.href}, not a local file; ` +
        `keep "nodeModulesDir": "auto" in deno.json so npm packages live in node_modules/`,
    );
  }
  return decodeURIComponent(url.pathname);
}
