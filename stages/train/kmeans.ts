/**
 * Seeded k-means on images (k-means++ seeding, then Lloyd iterations) for the `data`
 * initialisation. Distances come from matrix products on the started tfjs backend (on `blas`,
 * `sgemm`): ‖x − c‖² = ‖x‖² − 2xᵀc + ‖c‖²; cluster sums are float64 and updated only for the
 * images that move.
 *
 * A clustering that converges with a cluster of fewer than `minMembers` images (empty or tiny)
 * is repaired: each such cluster's centre is re-seeded at the image farthest from its own
 * centre, and Lloyd runs again; after {@link KMEANS_REPAIRS} such rounds a cluster still short
 * takes the images nearest its centre from clusters that can spare them. A clustering without
 * small clusters never enters the repair, and the repair draws nothing from the rng.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Progress } from "../../pipeline/stage_kind.ts";
import type { Rng } from "../lib/prng.ts";

/** Most Lloyd iterations; they stop earlier once no image moves (nothing would change). */
export const KMEANS_ITERATIONS = 25;

/** Re-seeding rounds for clusters left with too few images, before the top-up. */
export const KMEANS_REPAIRS = 3;

/** What {@link kMeans} clusters. */
export interface KMeansOptions {
  /** Row-major n×D images. */
  images: { data: Float32Array; n: number };
  /** Pixels per image. */
  D: number;
  /** Clusters. */
  K: number;
  rng: Rng;
  /** Fewest images every cluster must end with (default 1: no empty cluster). */
  minMembers?: number;
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
  const xx = rowNorms(data, n, D);
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

/** Lloyd iterations from `centres` (updated in place); each image's final cluster. */
function lloyd(
  x: tf.Tensor2D,
  data: Float32Array,
  { n, D, K }: { n: number; D: number; K: number },
  centres: Float32Array,
  progress?: (p: Progress) => void,
): { assign: Int32Array; counts: Float64Array; sums: Float64Array } {
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
  return { assign, counts, sums };
}

/** Squared distance of every image to every centre, row-major n×K (one product). */
function distances(
  x: tf.Tensor2D,
  xx: Float64Array,
  centres: Float32Array,
  K: number,
  D: number,
): Float64Array {
  const xc = tf.tidy(() => tf.matMul(x, tf.tensor2d(centres, [K, D]), false, true).dataSync());
  const cc = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    for (let j = k * D; j < (k + 1) * D; j++) cc[k] += centres[j] * centres[j];
  }
  const out = new Float64Array(xx.length * K);
  for (let i = 0; i < xx.length; i++) {
    for (let k = 0; k < K; k++) out[i * K + k] = Math.max(0, xx[i] - 2 * xc[i * K + k] + cc[k]);
  }
  return out;
}

/** ‖x‖² of every row (a loop: tf.square would copy every image). */
function rowNorms(data: Float32Array, n: number, D: number): Float64Array {
  const xx = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * D; j < (i + 1) * D; j++) s += data[j] * data[j];
    xx[i] = s;
  }
  return xx;
}

/**
 * Moves every short cluster's centre to the image farthest from its own centre (taken only
 * from clusters that keep `minMembers` without it; each image used once); the other centres
 * become their clusters' means.
 */
function reseedShort(
  { assign, counts, sums }: ReturnType<typeof lloyd>,
  dist: Float64Array,
  data: Float32Array,
  { D, K, minMembers }: { D: number; K: number; minMembers: number },
  centres: Float32Array,
): void {
  for (let k = 0; k < K; k++) {
    if (counts[k] > 0) {
      for (let j = 0; j < D; j++) centres[k * D + j] = sums[k * D + j] / counts[k];
    }
  }
  const spare = Float64Array.from(counts, (c) => c - minMembers);
  const taken = new Set<number>();
  for (let k = 0; k < K; k++) {
    if (counts[k] >= minMembers) continue;
    let far = -1;
    for (let i = 0; i < assign.length; i++) {
      if (spare[assign[i]] < 1 || taken.has(i)) continue;
      if (far < 0 || dist[i * K + assign[i]] > dist[far * K + assign[far]]) far = i;
    }
    if (far < 0) return;
    taken.add(far);
    spare[assign[far]]--;
    centres.set(data.subarray(far * D, (far + 1) * D), k * D);
  }
}

/** Gives each short cluster the images nearest its centre from clusters that can spare them. */
function topUp(
  assign: Int32Array,
  counts: Float64Array,
  dist: Float64Array,
  { K, minMembers }: { K: number; minMembers: number },
): void {
  for (let k = 0; k < K; k++) {
    if (counts[k] >= minMembers) continue;
    const order = Array.from(assign.keys()).filter((i) => assign[i] !== k)
      .sort((a, b) => dist[a * K + k] - dist[b * K + k] || a - b);
    for (const i of order) {
      if (counts[k] >= minMembers) break;
      if (counts[assign[i]] <= minMembers) continue;
      counts[assign[i]]--;
      counts[k]++;
      assign[i] = k;
    }
  }
}

/**
 * Each image's cluster after seeded k-means (k-means++ seeding, at most
 * {@link KMEANS_ITERATIONS} Lloyd iterations), every cluster with at least `minMembers`
 * images. Throws when the n images cannot give K clusters that many.
 */
export function kMeans(
  { images: { data, n }, D, K, rng, minMembers = 1, progress }: KMeansOptions,
): Int32Array {
  if (n < K * minMembers) {
    throw new Error(
      `k-means: ${n} images cannot make ${K} clusters of at least ${minMembers} images`,
    );
  }
  const x = tf.tensor2d(data, [n, D]);
  try {
    const centres = seedCentres(x, data, n, D, K, rng, progress);
    let result = lloyd(x, data, { n, D, K }, centres, progress);
    const short = () => result.counts.some((c) => c < minMembers);
    if (!short()) return result.assign;
    const xx = rowNorms(data, n, D);
    for (let repair = 0; repair < KMEANS_REPAIRS && short(); repair++) {
      const dist = distances(x, xx, centres, K, D);
      reseedShort(result, dist, data, { D, K, minMembers }, centres);
      result = lloyd(x, data, { n, D, K }, centres, progress);
    }
    if (short()) {
      topUp(result.assign, result.counts, distances(x, xx, centres, K, D), { K, minMembers });
    }
    return result.assign;
  } finally {
    x.dispose();
  }
}
