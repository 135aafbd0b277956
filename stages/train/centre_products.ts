/**
 * Products x_i·c_k of chosen images with a few centres, for k-means: block by block, each block
 * one product (`sgemm` called directly on a blas backend, else tfjs `matMul`). A run of at
 * least {@link IN_PLACE_ROWS} consecutive images is one block read in place; other images are
 * gathered, up to {@link GATHER_ROWS} at a time, into a reused buffer first, so a pass over a
 * few images reads only those.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendTraits } from "../lib/backend_traits.ts";

/**
 * Most images gathered for one product: 512 images (1.6 MB) stay in a 2 MB L2 cache between
 * the copy and the product, and so small a product runs on one thread. Measured on the
 * Lloyd iterations with 2 cores shared with other jobs: 0.53 s against 1.2 s for 4,096.
 */
export const GATHER_ROWS = 512;

/** Consecutive images read in place as one block rather than gathered. */
export const IN_PLACE_ROWS = 256;

/** How many of rows[start], rows[start + 1], … are consecutive image indices. */
function runLength(rows: Int32Array, start: number): number {
  let run = 1;
  while (start + run < rows.length && rows[start + run] === rows[start] + run) run++;
  return run;
}

/** ‖row‖² of each of the `count` rows of `d` values of `x`, float64. */
export function squaredNorms(x: Float32Array, count: number, d: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let j = i * d; j < (i + 1) * d; j++) s += x[j] * x[j];
    out[i] = s;
  }
  return out;
}

/** Row-major out (rows×k) = block (rows×d) · centresᵀ (centres k×d), float32. */
function product(
  block: Float32Array,
  rows: number,
  centres: Float32Array,
  k: number,
  d: number,
  out: Float32Array,
): void {
  const { blas } = backendTraits();
  if (blas) return blas.sgemm(false, true, rows, k, d, block, centres, out);
  out.set(tf.tidy(() => {
    const x = tf.tensor2d(block.subarray(0, rows * d), [rows, d]);
    return tf.matMul(x, tf.tensor2d(centres.subarray(0, k * d), [k, d]), false, true).dataSync();
  }));
}

/** Products of the row-major n×D `data` images with centres, block by block. */
export class CentreProducts {
  /** ‖x_i‖² of every image, float64. */
  readonly norms: Float64Array;
  readonly n: number;
  readonly #gather: Float32Array;
  #out = new Float32Array(0);
  #d2 = new Float64Array(0);

  constructor(readonly data: Float32Array, readonly D: number) {
    this.n = data.length / D;
    this.norms = squaredNorms(data, this.n, D);
    this.#gather = new Float32Array(Math.min(GATHER_ROWS, this.n) * D);
  }

  /**
   * Squared distances of the images `rows` (ascending indices) to the K centres (row-major K×D),
   * ‖x‖² − 2x·c + ‖c‖² with x·c in float32 and the rest in float64 (so slightly negative for an
   * image on a centre), block by block: each block gives the position `start` in `rows` of its
   * first image, its `count` images and `d2`, where d2[r·K + k] is the distance of image
   * rows[start + r] to centre k. `d2` is reused by the next block.
   */
  *squaredDistances(
    rows: Int32Array,
    centres: Float32Array,
    K: number,
  ): Generator<{ start: number; count: number; d2: Float64Array }> {
    const { norms } = this;
    const cc = squaredNorms(centres, K, this.D);
    for (const { start, count, xc } of this.#blocks(rows, centres, K)) {
      if (this.#d2.length < count * K) this.#d2 = new Float64Array(count * K);
      const d2 = this.#d2;
      for (let r = 0; r < count; r++) {
        const xx = norms[rows[start + r]];
        for (let k = 0; k < K; k++) d2[r * K + k] = xx - 2 * xc[r * K + k] + cc[k];
      }
      yield { start, count, d2 };
    }
  }

  /** {@link squaredDistances}' products: xc[r·K + k] = x_i·c_k for i = rows[start + r]. */
  *#blocks(
    rows: Int32Array,
    centres: Float32Array,
    K: number,
  ): Generator<{ start: number; count: number; xc: Float32Array }> {
    const { data, D } = this;
    for (let start = 0; start < rows.length;) {
      const run = runLength(rows, start);
      const inPlace = run >= IN_PLACE_ROWS;
      const count = inPlace ? run : this.#gatherFrom(rows, start);
      const first = rows[start] * D;
      const block = inPlace ? data.subarray(first, first + run * D) : this.#gather;
      if (this.#out.length < count * K) this.#out = new Float32Array(count * K);
      product(block, count, centres, K, D, this.#out);
      yield { start, count, xc: this.#out };
      start += count;
    }
  }

  /**
   * Copies images rows[start], rows[start + 1], … into the gather buffer, run by run, until it
   * is full, the rows end or a run to read in place begins; returns how many it copied.
   */
  #gatherFrom(rows: Int32Array, start: number): number {
    const { data, D } = this;
    let count = 0;
    while (start + count < rows.length && count < GATHER_ROWS) {
      const run = runLength(rows, start + count);
      if (run >= IN_PLACE_ROWS && count > 0) break;
      const take = Math.min(run, GATHER_ROWS - count);
      const from = rows[start + count] * D;
      this.#gather.set(data.subarray(from, from + take * D), count * D);
      count += take;
    }
    return count;
  }
}
