/**
 * The note's preprocessing: each image as 784 float32 values on the 0–255 scale, minus the
 * image's own mean over its pixels.
 *
 * @module
 */
import { PIXELS } from "../download/idx.ts";

/**
 * Gathers the images at `rows` from `pixels` (uint8, 784 per image) and centres each one:
 * x̃ = x − mean(x), with the mean accumulated in float64 (the integer sum is exact) and x̃
 * rounded once to float32.
 */
export function centreImages(pixels: Uint8Array, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * PIXELS);
  for (let r = 0; r < rows.length; r++) {
    const image = pixels.subarray(rows[r] * PIXELS, (rows[r] + 1) * PIXELS);
    let sum = 0;
    for (let j = 0; j < PIXELS; j++) sum += image[j];
    const mean = sum / PIXELS;
    const base = r * PIXELS;
    for (let j = 0; j < PIXELS; j++) out[base + j] = image[j] - mean;
  }
  return out;
}

/** One split's preprocessed images (float32, 784 per row) and their labels. */
export interface SplitArrays {
  images: Float32Array;
  labels: Uint8Array;
}

/** The images at `rows`, centred, and their labels. */
export function selectRows(
  source: { pixels: Uint8Array; labels: Uint8Array },
  rows: ArrayLike<number>,
): SplitArrays {
  return {
    images: centreImages(source.pixels, rows),
    labels: Uint8Array.from({ length: rows.length }, (_, r) => source.labels[rows[r]]),
  };
}
