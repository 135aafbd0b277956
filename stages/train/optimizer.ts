/**
 * The optimizers of the `train` stage. RMSprop is tfjs's `RMSPropOptimizer` whose update runs
 * as one fused kernel where the backend has it (`blas`: `FusedRMSProp`, bit-identical to the
 * eleven elementwise kernels tfjs runs per variable) and as tfjs's own ops elsewhere; slots,
 * `getWeights`/`setWeights` (and so checkpoints) are tfjs's.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED_RMSPROP, type RmspropAttrs } from "../lib/blas/optimizer_kernels.ts";
import type { RmspropFormula } from "./fused_step.ts";

/** The hyperparameters {@link makeOptimizer} reads. */
export interface OptimizerParams {
  optimizer: "rmsprop" | "adam";
  lr: number;
}

/** A named optimizer slot as `RMSPropOptimizer` keeps it. */
interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/**
 * The slot lists of tfjs 4.x's `RMSPropOptimizer`, private in its typings: per variable, in
 * `applyGradients` order, the running mean of g² (`<name>/rms`) and the moment
 * (`<name>/momentum`). `getWeights`/`setWeights` read and replace these lists.
 */
interface RmspropSlots {
  accumulatedMeanSquares: Slot[];
  accumulatedMoments: Slot[];
}

/** RMSprop (not centered) with the fused update kernel where the active backend has one. */
export class FusedRmspropOptimizer extends tf.RMSPropOptimizer {
  /** Where the update adds ε (tfjs's RMSprop: inside the square root). */
  readonly formula: RmspropFormula = "tfjs";

  constructor(learningRate: number, decay: number, momentum: number, epsilon: number) {
    super(learningRate, decay, momentum, epsilon, false);
  }

  /** ρ, ε and the momentum, as a fused training-step kernel takes them. */
  get hyperparameters(): { decay: number; epsilon: number; momentum: number } {
    return { decay: this.decay, epsilon: this.epsilon, momentum: this.momentum };
  }

  override applyGradients(variableGradients: Parameters<tf.Optimizer["applyGradients"]>[0]): void {
    if (!tf.getKernel(FUSED_RMSPROP, tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const attrs: RmspropAttrs = {
      learningRate: this.learningRate,
      decay: this.decay,
      momentum: this.momentum,
      epsilon: this.epsilon,
    };
    named.forEach(({ name, tensor: gradient }, i) => {
      const value = tf.engine().registeredVariables[name];
      const [meanSquare, moment] = this.#slots(value, i);
      if (gradient == null) return;
      const [newValue, newMeanSquare, newMoment] = tf.engine().runKernel(
        FUSED_RMSPROP,
        { value, gradient, meanSquare, moment }, // the kernel's RmspropInputs
        attrs,
      ) as tf.Tensor[];
      meanSquare.assign(newMeanSquare);
      moment.assign(newMoment);
      value.assign(newValue);
      tf.dispose([newValue, newMeanSquare, newMoment]);
    });
    this.incrementIterations();
  }

  /**
   * The running means of g² of `variables` (the i-th is the slot of the i-th variable, created
   * as zeros if missing), for a fused training-step kernel that updates them itself.
   */
  meanSquares(variables: tf.Variable[]): tf.Variable[] {
    return variables.map((value, i) => this.#slots(value, i)[0]);
  }

  /** Counts one step taken outside {@link applyGradients} (by a fused training-step kernel). */
  countStep(): void {
    this.incrementIterations();
  }

  /** The mean-square and moment slots of `value`, the i-th variable, created if missing. */
  #slots(value: tf.Variable, i: number): [tf.Variable, tf.Variable] {
    const slots = this as unknown as RmspropSlots;
    const zeros = (suffix: string) => ({
      originalName: `${value.name}/${suffix}`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    });
    slots.accumulatedMeanSquares[i] ??= zeros("rms");
    slots.accumulatedMoments[i] ??= zeros("momentum");
    return [slots.accumulatedMeanSquares[i].variable, slots.accumulatedMoments[i].variable];
  }
}

/**
 * The optimizer a training config asks for. RMSprop has PyTorch's defaults (smoothing 0.99,
 * no momentum, ε = 1e-8), as the note's run used; Adam has β = (0.9, 0.999), ε = 1e-8.
 */
export function makeOptimizer({ optimizer, lr }: OptimizerParams): tf.Optimizer {
  return optimizer === "rmsprop"
    ? new FusedRmspropOptimizer(lr, 0.99, 0, 1e-8)
    : tf.train.adam(lr, 0.9, 0.999, 1e-8);
}
