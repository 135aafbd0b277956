/**
 * Seeded k-means on images (k-means++ seeding, then Lloyd iterations) for the `data`
 * initialisation. Distances come from products of image blocks with the centres
 * ({@link CentreProducts}: on `blas`, `sgemm`): ‖x − c‖² = ‖x‖² − 2x·c + ‖c‖², the cross term
 * in float32 and the rest in float64; cluster sums are float64 and updated only for the images
 * that move.
 *
 * Lloyd iterations rescore only the images whose cluster might change ({@link DistanceBounds}:
 * the triangle inequality with a margin for float32 rounding), so a skipped image keeps the
 * cluster a pass over every image would give it; only ties within that rounding can differ.
 * On the 60,000 training images (K = 11) the result was bit-identical to full passes.
 *
 * A clustering that converges with a cluster of fewer than `minMembers` images (empty or tiny)
 * is repaired: each such cluster's centre is re-seeded at the image farthest from its own
 * centre, and Lloyd runs again; after {@link KMEANS_REPAIRS} such rounds a cluster still short
 * takes the images nearest its centre from clusters that can spare them. A clustering without
 * small clusters never enters the repair, and the repair draws nothing from the rng.
 *
 * @module
 */
import type { Progress } from "../../pipeline/stage_kind.ts";
import type { Rng } from "../lib/prng.ts";
import { CentreProducts } from "./centre_products.ts";
import { centreDrifts, DistanceBounds, reachOf } from "./kmeans_bounds.ts";

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

/** 0, 1, …, n − 1. */
function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** k-means++: the first centre uniform, each next one with probability ∝ squared distance. */
function seedCentres(
  x: CentreProducts,
  K: number,
  rng: Rng,
  progress?: (p: Progress) => void,
): Float32Array {
  const { data, D, n } = x;
  const centres = new Float32Array(K * D);
  const dist = new Float64Array(n).fill(Infinity);
  const rows = allRows(n);
  let pick = rng.int(0, n - 1);
  for (let k = 0; k < K; k++) {
    progress?.({ phase: "init k-means++", done: k, total: K });
    const c = data.subarray(pick * D, (pick + 1) * D);
    centres.set(c, k * D);
    let total = 0;
    for (const { start, count, d2 } of x.squaredDistances(rows, c, 1)) {
      for (let i = start; i < start + count; i++) {
        dist[i] = Math.min(dist[i], Math.max(0, d2[i - start]));
        total += dist[i];
      }
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

/** Each image's cluster, the clusters' sizes and float64 sums of their images. */
interface Clustering {
  assign: Int32Array;
  counts: Float64Array;
  sums: Float64Array;
}

/** Sets each non-empty cluster's centre to its mean (float32). */
function centresFromSums({ counts, sums }: Clustering, D: number, centres: Float32Array): void {
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] > 0) {
      for (let j = 0; j < D; j++) centres[k * D + j] = sums[k * D + j] / counts[k];
    }
  }
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
  const to = k * D, from = i * D;
  for (let j = 0; j < D; j++) sums[to + j] += sign * data[from + j];
}

/**
 * Rescores the images `rows` against `centres`: each goes to its nearest centre (the first on
 * a tie), its bounds are reset, and a move updates the counts and sums. Returns how many moved.
 */
function rescore(
  x: CentreProducts,
  rows: Int32Array,
  centres: Float32Array,
  state: Clustering,
  bounds: DistanceBounds,
): number {
  const { data, D } = x;
  const { assign, counts, sums } = state;
  const K = counts.length;
  const reach = reachOf(centres, K, D);
  let moved = 0;
  for (const { start, count, d2 } of x.squaredDistances(rows, centres, K)) {
    for (let r = 0; r < count; r++) {
      const i = rows[start + r];
      let best = 0;
      for (let k = 1; k < K; k++) if (d2[r * K + k] < d2[r * K + best]) best = k;
      bounds.set(i, best, d2, r * K, reach);
      const was = assign[i];
      if (was === best) continue;
      moved++;
      if (was >= 0) {
        counts[was]--;
        addRow(sums, data, D, was, i, -1);
      }
      assign[i] = best;
      counts[best]++;
      addRow(sums, data, D, best, i, 1);
    }
  }
  return moved;
}

/** Lloyd iterations from `centres` (updated in place); each image's final cluster. */
function lloyd(
  x: CentreProducts,
  K: number,
  centres: Float32Array,
  progress?: (p: Progress) => void,
): Clustering {
  const { n, D } = x;
  const state = {
    assign: new Int32Array(n).fill(-1),
    counts: new Float64Array(K),
    sums: new Float64Array(K * D),
  };
  const bounds = new DistanceBounds(x, K);
  rescore(x, allRows(n), centres, state, bounds);
  for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
    progress?.({ phase: "init k-means", done: iteration, total: KMEANS_ITERATIONS });
    const before = centres.slice();
    centresFromSums(state, D, centres);
    bounds.widen(state.assign, centreDrifts(before, centres, K, D));
    const rows = bounds.uncertain(state.assign, reachOf(centres, K, D));
    const moved = rescore(x, rows, centres, state, bounds);
    if (moved === 0) break; // the same centres again: later iterations change nothing
  }
  return state;
}

/** Squared distance of every image to every centre, row-major n×K. */
function distances(x: CentreProducts, centres: Float32Array, K: number): Float64Array {
  const out = new Float64Array(x.n * K);
  for (const { start, count, d2 } of x.squaredDistances(allRows(x.n), centres, K)) {
    for (let j = 0; j < count * K; j++) out[start * K + j] = Math.max(0, d2[j]);
  }
  return out;
}

/**
 * Moves every short cluster's centre to the image farthest from its own centre (taken only
 * from clusters that keep `minMembers` without it; each image used once); the other centres
 * become their clusters' means.
 */
function reseedShort(
  clustering: Clustering,
  dist: Float64Array,
  data: Float32Array,
  { D, K, minMembers }: { D: number; K: number; minMembers: number },
  centres: Float32Array,
): void {
  const { assign, counts } = clustering;
  centresFromSums(clustering, D, centres);
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
  const x = new CentreProducts(data, D);
  const centres = seedCentres(x, K, rng, progress);
  let result = lloyd(x, K, centres, progress);
  const short = () => result.counts.some((c) => c < minMembers);
  for (let repair = 0; repair < KMEANS_REPAIRS && short(); repair++) {
    reseedShort(result, distances(x, centres, K), data, { D, K, minMembers }, centres);
    result = lloyd(x, K, centres, progress);
  }
  if (short()) {
    topUp(result.assign, result.counts, distances(x, centres, K), { K, minMembers });
  }
  return result.assign;
}
