/**
 * `FusedStep`, a whole LGAE/LLGAE training step on the `blas` backend: the loss and gradients of
 * the fast formulation ({@link FusedGradients}) and the RMSprop update of μ, W and their running
 * means of g², in place over arrays allocated once per model size. The parameters and means are
 * kept in {@link FusedGradients}' packed layout between steps; the trainer
 * (stages/train/trainer.ts) loads them from its tfjs variables and writes them back.
 *
 * RMSprop (no momentum, not centered), ms′ = ρ·ms + (1 − ρ)·g², then by `formula`:
 * - `pytorch`: v′ = v − lr·g / (√ms′ + ε), `torch.optim.RMSprop`'s update;
 * - `tfjs`: v′ = v − lr·g / √(ms′ + ε), `tf.train.rmsprop`'s.
 * Each value is computed in float64 from the float32 inputs and rounded once when stored.
 *
 * @module
 */
import type { OpenBlas } from "../lib/blas/openblas.ts";
import {
  fusedErrors,
  FusedGradients,
  packedLength,
  packParams,
  SCORE_ROWS,
  unpackParams,
} from "./fused_gradients.ts";
import type { Encoder, ModelDims } from "./model.ts";
import type { RmspropFormula } from "./optimizer.ts";

/** RMSprop's settings. */
export interface FusedRmsprop {
  learningRate: number;
  /** ρ, the smoothing of the running mean of g². */
  decay: number;
  /** ε. */
  epsilon: number;
  formula: RmspropFormula;
}

/** μ [K,D], W [K,D,E] and their running means of g², as the tfjs variables hold them. */
export interface FusedState {
  mu: Float32Array;
  W: Float32Array;
  muMeanSquare: Float32Array;
  wMeanSquare: Float32Array;
}

/**
 * RMSprop over whole arrays, in place: `value` and `meanSquare` become v′ and ms′ from their
 * old values and `gradient` (see the module comment for the formulas).
 */
export function rmspropUpdate(
  { value, gradient, meanSquare }: {
    value: Float32Array;
    gradient: Float32Array;
    meanSquare: Float32Array;
  },
  { learningRate: lr, decay: rho, epsilon: eps, formula }: FusedRmsprop,
): void {
  const keep = 1 - rho;
  const n = value.length;
  if (formula === "pytorch") {
    for (let i = 0; i < n; i++) {
      const g = gradient[i];
      const ms = meanSquare[i] = rho * meanSquare[i] + keep * g * g;
      value[i] = value[i] - lr * g / (Math.sqrt(ms) + eps);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const g = gradient[i];
      const ms = meanSquare[i] = rho * meanSquare[i] + keep * g * g;
      value[i] = value[i] - lr * g / Math.sqrt(ms + eps);
    }
  }
}

/** What {@link FusedStep} needs. */
export interface FusedStepOptions {
  blas: OpenBlas;
  dims: ModelDims;
  encoder: Encoder;
  rmsprop: FusedRmsprop;
}

/** The training state in packed layout and the step that updates it. */
export class FusedStep {
  /** μ and W, packed ([D, K·E + K] = [W_1 … W_K | μᵀ]). */
  readonly params: Float32Array;
  /** Their running means of g², packed alike. */
  readonly meanSquare: Float32Array;

  readonly #options: FusedStepOptions;
  #gradients?: FusedGradients; // made for the first batch, remade for a larger one
  #scorer?: FusedGradients;

  constructor(options: FusedStepOptions) {
    this.#options = options;
    this.params = new Float32Array(packedLength(options.dims));
    this.meanSquare = new Float32Array(packedLength(options.dims));
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

  /** One RMSprop step on `rows` images (row-major rows×D in `x`); returns the loss before it. */
  step(x: Float32Array, rows: number): number {
    const { blas, dims, encoder } = this.#options;
    if (!this.#gradients || this.#gradients.maxRows < rows) {
      this.#gradients = new FusedGradients(blas, dims, encoder, rows);
    }
    const gradients = this.#gradients;
    const loss = gradients.compute(x, rows, this.params);
    rmspropUpdate(
      { value: this.params, gradient: gradients.gradient, meanSquare: this.meanSquare },
      this.#options.rmsprop,
    );
    return loss;
  }

  /** Each of `n` images' chosen component and mean squared error under the current μ, W. */
  score(images: Float32Array, n: number): { choice: Int32Array; sqErr: Float32Array } {
    const { blas, dims, encoder } = this.#options;
    this.#scorer ??= new FusedGradients(blas, dims, encoder, SCORE_ROWS);
    return fusedErrors({ blas, dims, encoder, images, n, params: this.params, work: this.#scorer });
  }
}
