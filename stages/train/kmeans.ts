/**
 * Seeded k-means on images (k-means++ seeding, then Lloyd iterations) for the `data`
 * initialisation. Distances come from matrix products on the started tfjs backend (on `blas`,
 * `sgemm`): ‖x − c‖² = ‖x‖² − 2xᵀc + ‖c‖²; cluster sums are float64 and updated only for the
 * images that move.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Progress } from "../../pipeline/stage_kind.ts";
import type { Rng } from "../lib/prng.ts";

/** Most Lloyd iterations; they stop earlier once no image moves (nothing would change). */
export const KMEANS_ITERATIONS = 25;

/** What {@link kMeans} clusters. */
export interface KMeansOptions {
  /** Row-major n×D images. */
  images: { data: Float32Array; n: number };
  /** Pixels per image. */
  D: number;
  /** Clusters. */
  K: number;
  rng: Rng;
  /** Hears the seeding and the Lloyd iterations as two init phases. */
  progress?: (p: Progress) => void;
}

/** Index of the nearest centre of every row: argmin_k ‖c_k‖² − 2 xᵀc_k, one product. */
function nearest(x: tf.Tensor2D, centres: Float32Array, K: number, D: number): Int32Array {
  return tf.tidy(() => {
    const c = tf.tensor2d(centres, [K, D]);
    const score = tf.sub(tf.sum(tf.square(c), 1), tf.mul(2, tf.matMul(x, c, false, true)));
    return tf.argMin(score, 1).dataSync() as Int32Array;
  });
}

/** k-means++: the first centre uniform, each next one with probability ∝ squared distance. */
function seedCentres(
  x: tf.Tensor2D,
  data: Float32Array,
  n: number,
  D: number,
  K: number,
  rng: Rng,
  progress?: (p: Progress) => void,
) {
  const centres = new Float32Array(K * D);
  const xx = new Float64Array(n); // ‖x‖² (a loop: tf.square would copy every image)
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * D; j < (i + 1) * D; j++) s += data[j] * data[j];
    xx[i] = s;
  }
  const dist = new Float64Array(n).fill(Infinity);
  let pick = rng.int(0, n - 1);
  for (let k = 0; k < K; k++) {
    progress?.({ phase: "init k-means++", done: k, total: K });
    const c = data.subarray(pick * D, (pick + 1) * D);
    centres.set(c, k * D);
    let cc = 0;
    for (let j = 0; j < D; j++) cc += c[j] * c[j];
    const xc = tf.tidy(() => tf.matMul(x, tf.tensor2d(c, [D, 1])).dataSync());
    let total = 0;
    for (let i = 0; i < n; i++) {
      dist[i] = Math.min(dist[i], Math.max(0, xx[i] - 2 * xc[i] + cc));
      total += dist[i];
    }
    let target = rng.float() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= dist[i];
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
  return centres;
}

/** Adds `sign`·row i of `data` to cluster k's float64 sum. */
function addRow(
  sums: Float64Array,
  data: Float32Array,
  D: number,
  k: number,
  i: number,
  sign: number,
) {
  for (let j = 0; j < D; j++) sums[k * D + j] += sign * data[i * D + j];
}

/**
 * Each image's cluster after seeded k-means (k-means++ seeding, at most
 * {@link KMEANS_ITERATIONS} Lloyd iterations). A cluster left empty keeps its previous centre.
 */
export function kMeans(
  { images: { data, n }, D, K, rng, progress }: KMeansOptions,
): Int32Array {
  const x = tf.tensor2d(data, [n, D]);
  try {
    const centres = seedCentres(x, data, n, D, K, rng, progress);
    let assign = nearest(x, centres, K, D);
    const sums = new Float64Array(K * D);
    const counts = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      counts[assign[i]]++;
      addRow(sums, data, D, assign[i], i, 1);
    }
    for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
      progress?.({ phase: "init k-means", done: iteration, total: KMEANS_ITERATIONS });
      for (let k = 0; k < K; k++) {
        if (counts[k] > 0) {
          for (let j = 0; j < D; j++) centres[k * D + j] = sums[k * D + j] / counts[k];
        }
      }
      const next = nearest(x, centres, K, D);
      let moved = 0;
      for (let i = 0; i < n; i++) {
        if (next[i] === assign[i]) continue;
        moved++;
        counts[assign[i]]--;
        addRow(sums, data, D, assign[i], i, -1);
        counts[next[i]]++;
        addRow(sums, data, D, next[i], i, 1);
      }
      assign = next;
      if (moved === 0) break; // the same centres again: later iterations change nothing
    }
    return assign;
  } finally {
    x.dispose();
  }
}
