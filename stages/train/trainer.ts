/**
 * One training step of LGAE/LLGAE, in the formulation chosen once for the backend: on a blas
 * backend with RMSprop, the fused step (stages/train/fused_step.ts: loss, gradients and update
 * in a few BLAS calls over state it keeps between steps; scoring by its forward pass);
 * elsewhere tfjs's autodiff of the fast formulation and the optimizer's own update, and tfjs's
 * forward pass (the reference the fused step is tested against).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { FusedStep } from "./fused_step.ts";
import type { InitialParams } from "./init.ts";
import { blasOf } from "../lib/blas/backend.ts";
import { type Encoder, errorsWith, loss, type ModelDims, type Params } from "./model.ts";
import { makeOptimizer, type OptimizerParams, Rmsprop } from "./optimizer.ts";

/** Which implementation {@link Trainer.step} and {@link Trainer.scorer} run. */
export type StepFormulation = "fused" | "tfjs";

/** The model's variables, its optimizer and a step function. */
export interface Trainer {
  /** μ and W as tfjs variables (after {@link sync}, read them for saving). */
  readonly params: Params;
  /** The optimizer whose slots hold the training state (after {@link sync}: `getWeights`). */
  readonly optimizer: tf.Optimizer;
  readonly formulation: StepFormulation;
  /**
   * One optimizer step on `rows` images (row-major rows×D in `batch`); returns the loss.
   * `norms`, when given, holds each row's ‖x‖² as `imageNorms` (fused_gradients.ts) computes
   * it, so the fused step need not compute them per batch (the same values: the same loss);
   * tfjs ignores it.
   */
  step(batch: Float32Array, rows: number, norms?: Float64Array): number;
  /**
   * A function giving each of `n` images' chosen component and mean squared error under the
   * current μ, W whenever it is called (the images must not change while it is used).
   */
  scorer(images: Float32Array, n: number): () => { choice: Int32Array; sqErr: Float32Array };
  /** Writes the state of the last step into {@link params} and the optimizer's slots. */
  sync(): void;
  /** Replaces the optimizer's slots (a checkpoint's `getWeights`) before the next step. */
  restore(slots: { name: string; tensor: tf.Tensor }[]): Promise<void>;
  /** Frees the variables and the optimizer. */
  dispose(): void;
}

/** What {@link makeTrainer} needs. */
export interface TrainerOptions {
  dims: ModelDims;
  encoder: Encoder;
  optimizer: OptimizerParams;
  /** The starting μ and W. */
  start: InitialParams;
  /** The backend `initBackend` started. */
  backend: string;
  /** `fused` on a blas backend with an RMSprop (the default), else `tfjs`. */
  formulation?: StepFormulation;
}

/**
 * Registers tfjs's gradients, which the `tfjs` formulation's autodiff needs (tfjs-core alone has
 * none). They come with the whole `@tensorflow/tfjs` package (layers, converter, data, webgl:
 * ~60–100 ms of a stage process's start), so only a training in that formulation loads it.
 */
export async function loadGradients(): Promise<void> {
  await import("@tensorflow/tfjs");
}

/** Which formulation `backend` runs for `optimizer` unless told otherwise. */
export function defaultFormulation(backend: string, optimizer: OptimizerParams): StepFormulation {
  return optimizer.optimizer !== "adam" && blasOf(backend) ? "fused" : "tfjs";
}

/** Creates μ and W as variables from `start` and a trainer in the chosen formulation. */
export function makeTrainer(options: TrainerOptions): Trainer {
  const { dims: { K, D, E }, encoder, start, backend } = options;
  const formulation = options.formulation ?? defaultFormulation(backend, options.optimizer);
  const [mu, W] = tf.tidy(() => [
    tf.variable(tf.tensor2d(start.mu, [K, D])),
    tf.variable(tf.tensor3d(start.W, [K, D, E])),
  ]);
  const params = { mu, W } as unknown as Params;
  const optimizer = makeOptimizer(options.optimizer);
  const dispose = () => {
    optimizer.dispose();
    tf.dispose([mu, W]);
  };
  if (formulation === "tfjs") {
    if (!tf.getGradient("Add")) {
      dispose();
      throw new Error(
        "trainer: the tfjs formulation needs tfjs's gradients: loadGradients() first",
      );
    }
    return {
      params,
      optimizer,
      formulation,
      step(batch, rows) {
        const x = tf.tensor2d(batch.subarray(0, rows * D), [rows, D]);
        const cost = optimizer.minimize(() => loss(params, x, encoder), true)!;
        const value = cost.dataSync()[0];
        tf.dispose([x, cost]);
        return value;
      },
      scorer: (images, n) => () => errorsWith(params, encoder, images, n),
      sync() {},
      restore: (slots) => optimizer.setWeights(slots),
      dispose,
    };
  }
  const blas = blasOf(backend);
  if (!(optimizer instanceof Rmsprop) || !blas) {
    throw new Error(`trainer: the fused step needs rmsprop on a blas backend, not ${backend}`);
  }
  const { decay, epsilon, momentum } = optimizer.hyperparameters;
  if (momentum !== 0) throw new Error(`trainer: the fused step has no momentum (${momentum})`);
  const fused = new FusedStep({
    blas,
    dims: options.dims,
    encoder,
    rmsprop: { learningRate: options.optimizer.lr, decay, epsilon, formula: optimizer.formula },
  });
  // The fused step holds the state from its first use until `sync` or `restore`.
  let loaded = false;
  const meanSquares = () => optimizer.meanSquares([mu, W]);
  const load = () => {
    if (loaded) return;
    const [muMeanSquare, wMeanSquare] = meanSquares().map((t) => t.dataSync() as Float32Array);
    const [muValues, wValues] = [mu, W].map((t) => t.dataSync() as Float32Array);
    fused.load({ mu: muValues, W: wValues, muMeanSquare, wMeanSquare });
    loaded = true;
  };
  return {
    params,
    optimizer,
    formulation,
    step(batch, rows, norms) {
      load();
      optimizer.countStep();
      return fused.step(batch, rows, norms);
    },
    scorer(images, n) {
      const score = fused.scorer(images, n);
      return () => {
        load();
        return score();
      };
    },
    sync() {
      if (!loaded) return;
      const state = fused.unpack();
      const [muMeanSquare, wMeanSquare] = meanSquares();
      tf.tidy(() => {
        mu.assign(tf.tensor2d(state.mu, [K, D]));
        W.assign(tf.tensor3d(state.W, [K, D, E]));
        muMeanSquare.assign(tf.tensor2d(state.muMeanSquare, [K, D]));
        wMeanSquare.assign(tf.tensor3d(state.wMeanSquare, [K, D, E]));
      });
    },
    async restore(slots) {
      await optimizer.setWeights(slots);
      loaded = false;
    },
    dispose,
  };
}
