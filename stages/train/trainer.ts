/**
 * One training step of LGAE/LLGAE, in the formulation chosen once for the backend: on a blas
 * backend with RMSprop, the fused kernel `LlgaeRmspropStep` (stages/train/fused_step.ts: loss,
 * gradients and update in a few BLAS calls; scoring by its forward pass); elsewhere tfjs's
 * autodiff of the fast formulation and the optimizer's own update, and tfjs's forward pass (the
 * reference the fused step is tested against).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // registers the gradients (tfjs-core alone has none)
import { type FusedStepAttrs, LLGAE_RMSPROP_STEP, registerFusedStep } from "./fused_step.ts";
import type { InitialParams } from "./init.ts";
import { blasOf } from "../lib/blas/backend.ts";
import { fusedErrors, FusedGradients, SCORE_ROWS } from "./fused_gradients.ts";
import { type Encoder, errorsWith, loss, type ModelDims, type Params } from "./model.ts";
import { makeOptimizer, type OptimizerParams, Rmsprop } from "./optimizer.ts";

/** Which implementation {@link Trainer.step} and {@link Trainer.score} run. */
export type StepFormulation = "fused" | "tfjs";

/** The model's variables, its optimizer and a step function. */
export interface Trainer {
  /** μ and W as tfjs variables (read them for scoring and saving). */
  readonly params: Params;
  /** The optimizer whose slots hold the training state (`getWeights`/`setWeights`). */
  readonly optimizer: tf.Optimizer;
  readonly formulation: StepFormulation;
  /** One optimizer step on `rows` images (row-major rows×D in `batch`); returns the loss. */
  step(batch: Float32Array, rows: number): number;
  /** Each of `n` images' chosen component and mean squared error under the current μ, W. */
  score(images: Float32Array, n: number): { choice: Int32Array; sqErr: Float32Array };
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
  /** `fused` when the backend has the kernel and the optimizer is an RMSprop (default), else `tfjs`. */
  formulation?: StepFormulation;
}

/** Which formulation `backend` runs for `optimizer` unless told otherwise. */
export function defaultFormulation(backend: string, optimizer: OptimizerParams): StepFormulation {
  return optimizer.optimizer !== "adam" && registerFusedStep(backend) ? "fused" : "tfjs";
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
      score: (images, n) => errorsWith(params, encoder, images, n),
      dispose,
    };
  }
  if (!(optimizer instanceof Rmsprop) || !registerFusedStep(backend)) {
    throw new Error(`trainer: the fused step needs rmsprop on a blas backend, not ${backend}`);
  }
  let scorer: FusedGradients | undefined; // for scoring, made on first use
  const { decay, epsilon, momentum } = optimizer.hyperparameters;
  if (momentum !== 0) throw new Error(`trainer: the fused step has no momentum (${momentum})`);
  const attrs: FusedStepAttrs = {
    ...encoder,
    learningRate: options.optimizer.lr,
    decay,
    epsilon,
    formula: optimizer.formula,
  };
  return {
    params,
    optimizer,
    formulation,
    step(batch, rows) {
      const [muMeanSquare, wMeanSquare] = optimizer.meanSquares([mu, W]);
      const x = tf.tensor2d(batch.subarray(0, rows * D), [rows, D]);
      const out = tf.engine().runKernel(
        LLGAE_RMSPROP_STEP,
        { x, mu, W, muMeanSquare, wMeanSquare },
        attrs,
      ) as tf.Tensor[];
      const value = out[0].dataSync()[0];
      mu.assign(out[1] as tf.Tensor2D);
      W.assign(out[2] as tf.Tensor3D);
      muMeanSquare.assign(out[3]);
      wMeanSquare.assign(out[4]);
      optimizer.countStep();
      tf.dispose([x, ...out]);
      return value;
    },
    score(images, n) {
      const blas = blasOf(backend)!;
      const [muValues, wValues] = [mu, W].map((t) => t.dataSync() as Float32Array);
      const args = { blas, dims: options.dims, encoder, images, n, mu: muValues, W: wValues };
      scorer ??= new FusedGradients(blas, options.dims, encoder, SCORE_ROWS);
      return fusedErrors({ ...args, work: scorer });
    },
    dispose,
  };
}
