/**
 * Sums of outer products xxᵀ of data rows (Gram matrices XᵀX), accumulated in float32 block by
 * block: by `cblas_ssyrk` (upper triangle only) when the started backend has an OpenBLAS, else
 * by a tfjs matrix product (the whole matrix). Shared by the PCA and the data initialisation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendTraits } from "./backend_traits.ts";

/** Rows per block handed to one product. */
export const GRAM_BLOCK_ROWS = 4096;

/** A d×d float32 sum of `sign`·xxᵀ over the rows added to it. */
export class GramSum {
  /** The sums; with an OpenBLAS only the upper triangle is kept. */
  readonly sums: Float32Array;
  readonly #upperOnly: boolean;

  constructor(readonly d: number) {
    this.sums = new Float32Array(d * d);
    this.#upperOnly = backendTraits().blas !== undefined;
  }

  /** Adds `sign`·XᵀX of the `rows` rows in `block` (row-major rows×d). */
  add(block: Float32Array, rows: number, sign = 1): void {
    const { d, sums } = this;
    const blas = backendTraits().blas;
    if (rows === 0) return;
    if (blas) {
      blas.ssyrkUpper(d, rows, sign, block.subarray(0, rows * d), 1, sums);
      return;
    }
    // Explicit transpose: tfjs-wasm's transposed matMul is ~10× slower.
    const gram = tf.tidy(() => {
      const x = tf.tensor2d(block.subarray(0, rows * d), [rows, d]);
      return tf.matMul(tf.transpose(x), x).dataSync();
    });
    for (let i = 0; i < d * d; i++) sums[i] += sign * gram[i];
  }

  /**
   * The symmetric sums in float64 times `scale` (tfjs's float32 rounding symmetrised), minus
   * `mean` meanᵀ when a mean is given: with scale 1/n, the covariance E[xxᵀ] − mean meanᵀ.
   */
  symmetric(scale: number, mean?: Float64Array): Float64Array {
    const { d, sums } = this;
    const out = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      const mi = mean?.[i] ?? 0;
      for (let j = i; j < d; j++) {
        const s = this.#upperOnly ? sums[i * d + j] : (sums[i * d + j] + sums[j * d + i]) / 2;
        out[i * d + j] = out[j * d + i] = mean ? s * scale - mi * mean[j] : s * scale;
      }
    }
    return out;
  }
}
