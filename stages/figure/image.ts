/**
 * Small grayscale images for the figure: map float pixels to 0–255, enlarge them with
 * nearest-neighbour pixels (crisp at any zoom, whatever the SVG renderer's smoothing) and
 * encode them as PNG data URIs that an SVG `<image>` embeds.
 *
 * @module
 */
import { encode } from "fast-png";
import { Buffer } from "node:buffer";

/** Maps `values` linearly so `lo` is black and `hi` white, clamping outside; 8-bit gray. */
export function toGray(values: ArrayLike<number>, lo: number, hi: number): Uint8Array {
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return Uint8Array.from(
    { length: values.length },
    (_, i) => Math.round(Math.min(255, Math.max(0, (values[i] - lo) * scale))),
  );
}

/** The smallest and largest of `values`. */
export function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  return [lo, hi];
}

/** Repeats every pixel of a `side`×`side` gray image `factor`×`factor` times. */
export function enlarge(gray: Uint8Array, side: number, factor: number): Uint8Array {
  const out = new Uint8Array(side * factor * side * factor);
  const width = side * factor;
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < width; x++) {
      out[y * width + x] = gray[Math.floor(y / factor) * side + Math.floor(x / factor)];
    }
  }
  return out;
}

/** A `data:image/png;base64,…` URI of a square 8-bit gray image. */
export function grayPngDataUri(gray: Uint8Array, side: number): string {
  const png = encode({ width: side, height: side, data: gray, channels: 1, depth: 8 });
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}
