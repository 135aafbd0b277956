/**
 * Which images a Lloyd iteration must rescore (Elkan's and Hamerly's bounds, kept for every
 * centre and checked per image so that rescoring stays one product per block of images).
 *
 * Each image keeps an upper bound u on its distance to its own centre a and a lower bound l_k
 * on its distance to each centre k. When centre k moves by δ_k, the triangle inequality keeps
 * u + δ_a and l_k − δ_k bounds. The squared distance k-means computes,
 * ‖x‖² − 2 fl(x·c) + ‖c‖² with the cross term in float32, is within
 * ε = 2γ_D‖x‖·max_k‖c_k‖ of the exact one ({@link dotRounding}), so when l_k² − u² > 2ε for
 * every k ≠ a, a pass over every image would leave the image in cluster a: it need not be
 * rescored. A small relative slack covers the float64 rounding of the bounds themselves.
 *
 * @module
 */
import { type CentreProducts, squaredNorms } from "./centre_products.ts";

/** Relative slack for the float64 rounding of norms, square roots and bound updates. */
const FLOAT64_SLACK = 1e-10;

/**
 * Bound on the rounding of a float32 dot product of length `d` of float32 vectors, relative to
 * ‖x‖‖c‖: |fl(x·c) − x·c| ≤ γ_d Σ|x_j c_j| ≤ γ_d ‖x‖‖c‖ with γ_d = d·u/(1 − d·u), u = 2⁻²⁴,
 * whatever the order of summation (Higham, Accuracy and Stability, §3.1).
 */
export function dotRounding(d: number): number {
  const du = d * 2 ** -24;
  return du / (1 - du);
}

/** The largest ‖c_k‖ of the K centres (row-major K×D). */
export function reachOf(centres: Float32Array, K: number, D: number): number {
  return Math.sqrt(Math.max(...squaredNorms(centres, K, D)));
}

/** Distance each of the K centres moved from `before` to `after` (K×D), rounded up. */
export function centreDrifts(
  before: Float32Array,
  after: Float32Array,
  K: number,
  D: number,
): Float64Array {
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = k * D; j < (k + 1) * D; j++) s += (after[j] - before[j]) ** 2;
    out[k] = Math.sqrt(s) * (1 + FLOAT64_SLACK);
  }
  return out;
}

/** The bounds of every image's distances to K centres (module note). */
export class DistanceBounds {
  readonly #upper: Float64Array;
  /** n×K, row-major. */
  readonly #lower: Float64Array;
  readonly #rows: Int32Array;
  readonly #gamma: number;
  /** ‖x_i‖ of every image. */
  readonly #lengths: Float64Array;

  constructor(readonly x: CentreProducts, readonly K: number) {
    this.#upper = new Float64Array(x.n);
    this.#lower = new Float64Array(x.n * K);
    this.#rows = new Int32Array(x.n);
    this.#gamma = dotRounding(x.D);
    this.#lengths = x.norms.map(Math.sqrt);
  }

  /** ε of image i for centres no longer than `reach`. */
  #epsilon(i: number, reach: number): number {
    const xx = this.x.norms[i];
    return 2 * this.#gamma * this.#lengths[i] * reach + FLOAT64_SLACK * (xx + reach * reach);
  }

  /**
   * Resets image i's bounds from its computed squared distances to the K centres (no longer
   * than `reach`), d2[at + k] for centre k, `own` being its centre.
   */
  set(i: number, own: number, d2: Float64Array, at: number, reach: number): void {
    const eps = this.#epsilon(i, reach), K = this.K, lower = this.#lower;
    this.#upper[i] = Math.sqrt(Math.max(0, d2[at + own] + eps)) * (1 + FLOAT64_SLACK);
    for (let k = 0; k < K; k++) {
      lower[i * K + k] = Math.sqrt(Math.max(0, d2[at + k] - eps)) * (1 - FLOAT64_SLACK);
    }
  }

  /** Widens the bounds after centre k moved by drift[k] (from {@link centreDrifts}). */
  widen(assign: Int32Array, drift: Float64Array): void {
    const K = this.K, upper = this.#upper, lower = this.#lower;
    for (let i = 0; i < assign.length; i++) {
      upper[i] += drift[assign[i]];
      for (let k = 0; k < K; k++) lower[i * K + k] = Math.max(0, lower[i * K + k] - drift[k]);
    }
  }

  /**
   * The images (ascending; a view reused by the next call) whose cluster `assign` a pass over
   * every image against centres no longer than `reach` might change.
   */
  uncertain(assign: Int32Array, reach: number): Int32Array {
    const K = this.K, upper = this.#upper, lower = this.#lower;
    let count = 0;
    for (let i = 0; i < assign.length; i++) {
      const own = assign[i];
      let nearestOther = Infinity;
      for (let k = 0; k < K; k++) {
        if (k !== own && lower[i * K + k] < nearestOther) nearestOther = lower[i * K + k];
      }
      const u2 = upper[i] * upper[i], l2 = nearestOther * nearestOther;
      const margin = 2 * this.#epsilon(i, reach) + FLOAT64_SLACK * (u2 + l2);
      if (!(l2 - u2 > margin)) this.#rows[count++] = i;
    }
    return this.#rows.subarray(0, count);
  }
}
