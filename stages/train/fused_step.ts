/**
 * `FusedStep`, a whole LGAE/LLGAE training step on the `blas` backend: the loss and gradients of
 * the fast formulation ({@link FusedGradients}) and the RMSprop update of μ, W and their running
 * means of g², in place over arrays allocated once per model size. The parameters, their
 * gradient and means are kept in {@link FusedGradients}' packed layout in a {@link SimdArena}
 * between steps, where the update runs four lanes at a time; the trainer
 * (stages/train/trainer.ts) loads them from its tfjs variables and writes them back.
 *
 * RMSprop (no momentum, not centered), in float32 as PyTorch computes it,
 * ms′ = ms·ρ + ((1 − ρ)·g)·g, then by `formula`:
 * - `pytorch`: v′ = v − lr·(g / (√ms′ + ε)), `torch.optim.RMSprop`'s update;
 * - `tfjs`: v′ = v − lr·(g / √(ms′ + ε)), `tf.train.rmsprop`'s.
 *
 * @module
 */
import type { OpenBlas } from "../lib/blas/openblas.ts";
import { type RmspropSettings, SimdArena } from "../lib/simd/simd.ts";
import {
  fusedErrors,
  FusedGradients,
  imageNorms,
  packedLength,
  packParams,
  SCORE_ROWS,
  unpackParams,
} from "./fused_gradients.ts";
import type { Encoder, ModelDims } from "./model.ts";

/** μ [K,D], W [K,D,E] and their running means of g², as the tfjs variables hold them. */
export interface FusedState {
  mu: Float32Array;
  W: Float32Array;
  muMeanSquare: Float32Array;
  wMeanSquare: Float32Array;
}

/** What {@link FusedStep} needs. */
export interface FusedStepOptions {
  blas: OpenBlas;
  dims: ModelDims;
  encoder: Encoder;
  rmsprop: RmspropSettings;
}

/** The training state in packed layout and the step that updates it. */
export class FusedStep {
  /** μ and W, packed ([D, K·(E + 1)], blocks [W_k | μ_k]). */
  readonly params: Float32Array;
  /** Their running means of g², packed alike. */
  readonly meanSquare: Float32Array;

  readonly #options: FusedStepOptions;
  readonly #arena: SimdArena;
  readonly #gradient: Float32Array;
  #gradients?: FusedGradients; // made for the first batch, remade for a larger one
  #scorer?: FusedGradients;

  constructor(options: FusedStepOptions) {
    this.#options = options;
    const n = packedLength(options.dims);
    this.#arena = new SimdArena([n, n, n]);
    this.params = this.#arena.floats(n);
    this.meanSquare = this.#arena.floats(n);
    this.#gradient = this.#arena.floats(n);
  }

  /** Replaces the state with `state`. */
  load(state: FusedState): void {
    const dims = this.#options.dims;
    packParams(dims, state.mu, state.W, this.params);
    packParams(dims, state.muMeanSquare, state.wMeanSquare, this.meanSquare);
  }

  /** The state as new arrays in the tfjs variables' shapes. */
  unpack(): FusedState {
    const dims = this.#options.dims;
    const { mu, W } = unpackParams(dims, this.params);
    const means = unpackParams(dims, this.meanSquare);
    return { mu, W, muMeanSquare: means.mu, wMeanSquare: means.W };
  }

  /**
   * One RMSprop step on `rows` images (row-major rows×D in `x`); returns the loss before it.
   * `norms`, when given, holds the rows' ‖x‖² ({@link imageNorms}), which the loss needs.
   */
  step(x: Float32Array, rows: number, norms?: Float64Array): number {
    const { blas, dims, encoder } = this.#options;
    if (!this.#gradients || this.#gradients.maxRows < rows) {
      const gradient = this.#gradient;
      this.#gradients = new FusedGradients({ blas, dims, encoder, maxRows: rows, gradient });
    }
    const loss = this.#gradients.compute(x, rows, this.params, norms);
    this.#arena.rmsprop(
      { value: this.params, gradient: this.#gradient, meanSquare: this.meanSquare },
      this.#options.rmsprop,
    );
    return loss;
  }

  /**
   * A function giving each of `n` images' chosen component and mean squared error under the
   * current μ, W whenever it is called; the images' norms are computed once, so the images must
   * not change while it is used.
   */
  scorer(images: Float32Array, n: number): () => { choice: Int32Array; sqErr: Float32Array } {
    const { blas, dims, encoder } = this.#options;
    const norms = imageNorms(images, n, dims.D);
    return () => {
      this.#scorer ??= new FusedGradients({ blas, dims, encoder, maxRows: SCORE_ROWS });
      const work = this.#scorer;
      return fusedErrors({ blas, dims, encoder, images, n, params: this.params, norms, work });
    };
  }
}
