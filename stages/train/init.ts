/**
 * Starting parameters for training.
 *
 * - `random` (the note's): PyTorch's `nn.Linear` default for the shapes the note's code builds
 *   μ and W from: μ is the weight of `nn.Linear(D, K)`, uniform in ±1/√D, and W the weight of
 *   `nn.Linear(D·E·K, 1)` reshaped to [K, D, E], uniform in ±1/√(D·E·K) (±1/28 and ±0.0024 for
 *   the note's D = 784, E = 20, K = 11), drawn from our seeded PRNG.
 * - `data`: μ_k from seeded k-means on the training images, W_k from the top-E principal
 *   directions of component k's members scaled by 1/√β, so that β W_kᵀW_k = I and the encoder's
 *   first step b = β W_kᵀ(x − μ_k) already gives the orthogonal projection onto the subspace;
 *   then a few rounds of k-subspaces (reassign each image to the component the encoder
 *   chooses, refit each component's mean and directions).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendTraits } from "../lib/backend_traits.ts";
import { GRAM_BLOCK_ROWS, GramSum } from "../lib/gram.ts";
import { leadingEigenvectors } from "../lib/pca.ts";
import type { Progress } from "../../pipeline/stage_kind.ts";
import type { Rng } from "../lib/prng.ts";
import { fusedChoices } from "./fused_gradients.ts";
import { kMeans } from "./kmeans.ts";
import { chooseWith, type Encoder, type ModelDims } from "./model.ts";

/** Initial μ (K×D) and W (K×D×E), row-major. */
export interface InitialParams {
  mu: Float32Array;
  W: Float32Array;
}

const SUBSPACE_ROUNDS = 3;
/** Relative change of the leading variances at which a component's PCA stops. */
const PCA_TOLERANCE = 1e-6;

/**
 * μ uniform in ±1/√D and W in ±1/√(D·E·K): PyTorch's `nn.Linear` default (bound 1/√fan_in)
 * for `nn.Linear(D, K)` and `nn.Linear(D·E·K, 1)`, the layers the note's code takes μ and W from.
 */
export function randomInit({ K, D, E }: ModelDims, rng: Rng): InitialParams {
  const uniform = (bound: number) => () => (rng.float() * 2 - 1) * bound;
  return {
    mu: Float32Array.from({ length: K * D }, uniform(1 / Math.sqrt(D))),
    W: Float32Array.from({ length: K * D * E }, uniform(1 / Math.sqrt(D * E * K))),
  };
}

/** Float64 sums, counts and float32 sums of xxᵀ of each cluster's images. */
class ClusterMoments {
  readonly #grams: GramSum[];
  readonly #sums: Float64Array;
  readonly counts: Float64Array;
  readonly #block: Float32Array;

  constructor(readonly data: Float32Array, readonly D: number, K: number) {
    this.#grams = Array.from({ length: K }, () => new GramSum(D));
    this.#sums = new Float64Array(K * D);
    this.counts = new Float64Array(K);
    this.#block = new Float32Array(GRAM_BLOCK_ROWS * D);
  }

  /** Adds (`sign` 1) or removes (−1) the images `rows` to or from cluster k. */
  add(k: number, rows: number[], sign: number): void {
    const { data, D } = this;
    const block = this.#block, sums = this.#sums;
    this.counts[k] += sign * rows.length;
    for (let start = 0; start < rows.length; start += GRAM_BLOCK_ROWS) {
      const count = Math.min(GRAM_BLOCK_ROWS, rows.length - start);
      for (let r = 0; r < count; r++) {
        const from = rows[start + r] * D, to = k * D;
        block.set(data.subarray(from, from + D), r * D);
        for (let j = 0; j < D; j++) sums[to + j] += sign * data[from + j];
      }
      this.#grams[k].add(block, count, sign);
    }
  }

  /** Moves every image whose cluster differs between `from` and `to`. */
  move(from: Int32Array, to: Int32Array): void {
    const K = this.counts.length;
    const out = Array.from({ length: K }, () => [] as number[]);
    const into = Array.from({ length: K }, () => [] as number[]);
    for (let i = 0; i < from.length; i++) {
      if (from[i] === to[i]) continue;
      out[from[i]].push(i);
      into[to[i]].push(i);
    }
    for (let k = 0; k < K; k++) {
      this.add(k, out[k], -1);
      this.add(k, into[k], 1);
    }
  }

  /** Cluster k's mean and covariance (divided by its size), float64. */
  covariance(k: number): { mean: Float64Array; cov: Float64Array } {
    const { D } = this;
    const n = this.counts[k];
    const mean = Float64Array.from(this.#sums.subarray(k * D, (k + 1) * D), (s) => s / n);
    return { mean, cov: this.#grams[k].symmetric(1 / n, mean) };
  }
}

/**
 * Refits each component with more than E images: its mean, and its top-E principal directions
 * scaled by 1/√β (the previous fit's directions start the iteration). Others keep theirs.
 */
function fitSubspaces(
  moments: ClusterMoments,
  { K, D, E }: ModelDims,
  beta: number,
  rng: Rng,
  into: InitialParams & { directions: (Float64Array | undefined)[] },
): void {
  const scale = 1 / Math.sqrt(beta);
  for (let k = 0; k < K; k++) {
    const seed = rng.int(0, 2 ** 31 - 1);
    if (moments.counts[k] <= E) continue;
    const { mean, cov } = moments.covariance(k);
    const { components, basis } = leadingEigenvectors(cov, D, E, {
      seed,
      tolerance: PCA_TOLERANCE,
      start: into.directions[k],
    });
    into.directions[k] = basis;
    into.mu.set(mean, k * D);
    for (let j = 0; j < D; j++) {
      for (let e = 0; e < E; e++) into.W[(k * D + j) * E + e] = components[e * D + j] * scale;
    }
  }
}

/** The component the encoder chooses for each image: fused on a blas backend, else by tfjs. */
function choose(
  { mu, W }: InitialParams,
  dims: ModelDims,
  encoder: Encoder,
  { data, n }: { data: Float32Array; n: number },
): Int32Array {
  const { blas } = backendTraits();
  if (blas) return fusedChoices({ blas, dims, encoder, images: data, n, params: { mu, W } });
  const { K, D, E } = dims;
  const params = tf.tidy(() => ({ mu: tf.tensor2d(mu, [K, D]), W: tf.tensor3d(W, [K, D, E]) }));
  try {
    return chooseWith(params, encoder, data, n);
  } finally {
    tf.dispose([params.mu, params.W]);
  }
}

/** What {@link dataInit} starts from. */
export interface DataInitOptions {
  /** The training images, row-major n×D. */
  images: { data: Float32Array; n: number };
  dims: ModelDims;
  encoder: Encoder;
  rng: Rng;
  /** k-subspace rounds after the k-means start (default 3). */
  rounds?: number;
  /** Hears each phase (k-means, subspace fits) and its steps. */
  progress?: (p: Progress) => void;
}

/**
 * k-means means and per-cluster principal directions scaled so that β WᵀW = I, then
 * `rounds` rounds of k-subspaces: every image moves to the component the model's encoder
 * chooses, and each component's mean and directions are refitted to its images.
 */
export function dataInit(
  { images, dims, encoder, rng, rounds = SUBSPACE_ROUNDS, progress }: DataInitOptions,
): InitialParams {
  const { data, n } = images;
  const { K, D, E } = dims;
  if (n < K * (E + 1)) {
    throw new Error(
      `init data: ${n} training images cannot give each of the ${K} components more than ` +
        `latent_dim ${E} images (it needs K·(E+1) = ${K * (E + 1)}); use init: random, fewer ` +
        `components, a smaller latent_dim or more training images`,
    );
  }
  let assign = K === 1
    ? new Int32Array(n)
    : kMeans({ images, D, K, rng, minMembers: E + 1, progress });
  const moments = new ClusterMoments(data, D, K);
  const members = Array.from({ length: K }, () => [] as number[]);
  for (let i = 0; i < n; i++) members[assign[i]].push(i);
  members.forEach((rows, k) => moments.add(k, rows, 1));
  const init = {
    mu: new Float32Array(K * D),
    W: new Float32Array(K * D * E),
    directions: new Array<Float64Array | undefined>(K),
  };
  const fits = K === 1 ? 1 : rounds + 1;
  progress?.({ phase: "init subspaces", done: 0, total: fits });
  fitSubspaces(moments, dims, encoder.beta, rng, init);
  progress?.({ phase: "init subspaces", done: 1, total: fits });
  for (let round = 0; round < (K === 1 ? 0 : rounds); round++) {
    const next = choose(init, dims, encoder, images);
    moments.move(assign, next);
    assign = next;
    fitSubspaces(moments, dims, encoder.beta, rng, init);
    progress?.({ phase: "init subspaces", done: round + 2, total: fits });
  }
  return { mu: init.mu, W: init.W };
}
