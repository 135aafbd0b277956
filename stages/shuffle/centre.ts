/**
 * The note's preprocessing: each image as 784 float32 values on the 0–255 scale, minus the
 * image's own mean over its pixels.
 *
 * @module
 */
import { PIXELS } from "../download/idx.ts";

/**
 * Fills `out` (a whole number of images) with the images `rows[first]`, `rows[first + 1]`, …
 * of `pixels` (uint8, 784 per image), each centred: x̃ = x − mean(x), the mean accumulated in
 * float64 (the integer sum is exact) and x̃ rounded once to float32.
 */
export function centreRows(
  pixels: Uint8Array,
  rows: ArrayLike<number>,
  first: number,
  out: Float32Array,
): void {
  const count = out.length / PIXELS;
  for (let r = 0; r < count; r++) {
    const src = rows[first + r] * PIXELS;
    const dst = r * PIXELS;
    let sum = 0;
    for (let j = 0; j < PIXELS; j++) sum += pixels[src + j];
    const mean = sum / PIXELS;
    for (let j = 0; j < PIXELS; j++) out[dst + j] = pixels[src + j] - mean;
  }
}

/** The labels at `rows`. */
export function gatherLabels(labels: Uint8Array, rows: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: rows.length }, (_, r) => labels[rows[r]]);
}
