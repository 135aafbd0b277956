/**
 * Starting parameters for training.
 *
 * - `random` (the note's): μ and W uniform in [−0.1, 0.1].
 * - `data`: μ_k from seeded k-means on the training images, W_k from the top-E principal
 *   directions of component k's members scaled by 1/√β, so that β W_kᵀW_k = I and the encoder's
 *   first step b = β W_kᵀ(x − μ_k) already gives the orthogonal projection onto the subspace;
 *   then a few rounds of k-subspaces (reassign each image to the component the encoder
 *   chooses, refit each component's mean and directions).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { principalSubspace } from "../lib/pca.ts";
import type { Rng } from "../lib/prng.ts";
import type { Progress } from "../../pipeline/stage_kind.ts";
import { chooseWith, type Encoder } from "./model.ts";

/** Initial μ (K×D) and W (K×D×E), row-major. */
export interface InitialParams {
  mu: Float32Array;
  W: Float32Array;
}

const RANDOM_SCALE = 0.1;
const KMEANS_ITERATIONS = 25;
const SUBSPACE_ROUNDS = 3;

/** μ and W uniform in [−0.1, 0.1]. */
export function randomInit(K: number, D: number, E: number, rng: Rng): InitialParams {
  const uniform = () => (rng.float() * 2 - 1) * RANDOM_SCALE;
  return {
    mu: Float32Array.from({ length: K * D }, uniform),
    W: Float32Array.from({ length: K * D * E }, uniform),
  };
}

/** Index of the nearest centre of every row: argmin_k ‖x − c_k‖², one tfjs product. */
function nearest(x: tf.Tensor2D, centres: Float32Array, K: number, D: number): Int32Array {
  return tf.tidy(() => {
    const c = tf.tensor2d(centres, [K, D]);
    // ‖x‖² is the same for every k: argmin_k ‖c_k‖² − 2 xᵀc_k.
    const score = tf.sub(tf.sum(tf.square(c), 1), tf.mul(2, tf.matMul(x, tf.transpose(c))));
    return tf.argMin(score, 1).dataSync() as Int32Array;
  });
}

/**
 * Seeded k-means (k-means++ seeding, then Lloyd iterations) on n×D rows; returns each row's
 * cluster. A cluster left empty keeps its previous centre.
 */
export function kMeans(
  data: Float32Array,
  n: number,
  D: number,
  K: number,
  rng: Rng,
  progress?: (p: Progress) => void,
): Int32Array {
  const centres = new Float32Array(K * D);
  // k-means++: first centre uniform, the next ones with probability ∝ squared distance.
  const dist = new Float64Array(n).fill(Infinity);
  let pick = rng.int(0, n - 1);
  for (let k = 0; k < K; k++) {
    progress?.({ phase: "init k-means++", done: k, total: K });
    centres.set(data.subarray(pick * D, (pick + 1) * D), k * D);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += (data[i * D + j] - centres[k * D + j]) ** 2;
      dist[i] = Math.min(dist[i], s);
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
  const x = tf.tensor2d(data, [n, D]);
  let assign: Int32Array = new Int32Array(n);
  try {
    for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
      progress?.({ phase: "init k-means", done: iteration, total: KMEANS_ITERATIONS });
      assign = nearest(x, centres, K, D);
      const sums = new Float64Array(K * D);
      const counts = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        const k = assign[i];
        counts[k]++;
        for (let j = 0; j < D; j++) sums[k * D + j] += data[i * D + j];
      }
      for (let k = 0; k < K; k++) {
        if (counts[k] > 0) {
          for (let j = 0; j < D; j++) centres[k * D + j] = sums[k * D + j] / counts[k];
        }
      }
    }
    return nearest(x, centres, K, D);
  } finally {
    x.dispose();
  }
}

/** Per-cluster means and top-E directions scaled by 1/√β; a cluster of ≤ E images keeps its old ones. */
function fitSubspaces(
  data: Float32Array,
  n: number,
  D: number,
  E: number,
  beta: number,
  assign: Int32Array,
  rng: Rng,
  into: InitialParams,
): number[] {
  const K = into.mu.length / D;
  const scale = 1 / Math.sqrt(beta);
  const sizes: number[] = [];
  for (let k = 0; k < K; k++) {
    const members = [];
    for (let i = 0; i < n; i++) if (assign[i] === k) members.push(i);
    sizes.push(members.length);
    if (members.length <= E) continue;
    const rows = new Float32Array(members.length * D);
    members.forEach((i, r) => rows.set(data.subarray(i * D, (i + 1) * D), r * D));
    const pca = principalSubspace(rows, members.length, D, E, { seed: rng.int(0, 2 ** 31 - 1) });
    into.mu.set(pca.mean, k * D);
    for (let j = 0; j < D; j++) {
      for (let e = 0; e < E; e++) into.W[(k * D + j) * E + e] = pca.components[e * D + j] * scale;
    }
  }
  return sizes;
}

/**
 * k-means means and per-cluster principal directions scaled so that β WᵀW = I, then
 * `rounds` rounds of k-subspaces: every image moves to the component the model's encoder
 * chooses, and each component's mean and directions are refitted to its images.
 * `progress` hears each phase (k-means, subspace fits) and its steps.
 */
export function dataInit(
  data: Float32Array,
  n: number,
  D: number,
  K: number,
  E: number,
  encoder: Encoder,
  rng: Rng,
  rounds = SUBSPACE_ROUNDS,
  progress?: (p: Progress) => void,
): InitialParams {
  let assign = K === 1 ? new Int32Array(n) : kMeans(data, n, D, K, rng, progress);
  const fits = 1 + (K === 1 ? 0 : rounds);
  progress?.({ phase: "init subspaces", done: 0, total: fits });
  const init = { mu: new Float32Array(K * D), W: new Float32Array(K * D * E) };
  const sizes = fitSubspaces(data, n, D, E, encoder.beta, assign, rng, init);
  progress?.({ phase: "init subspaces", done: 1, total: fits });
  const tooSmall = sizes.findIndex((size) => size <= E);
  if (tooSmall >= 0) {
    throw new Error(
      `init data: k-means cluster ${tooSmall} has ${sizes[tooSmall]} images, too few for ` +
        `latent_dim ${E}; use init: random, fewer components or more training images`,
    );
  }
  for (let round = 0; round < (K === 1 ? 0 : rounds); round++) {
    const params = tf.tidy(() => ({
      mu: tf.tensor2d(init.mu, [K, D]),
      W: tf.tensor3d(init.W, [K, D, E]),
    }));
    try {
      assign = chooseWith(params, encoder, data, n);
    } finally {
      tf.dispose([params.mu, params.W]);
    }
    fitSubspaces(data, n, D, E, encoder.beta, assign, rng, init);
    progress?.({ phase: "init subspaces", done: round + 2, total: fits });
  }
  return init;
}
