/**
 * The optimizers of the `train` stage.
 *
 * - `rmsprop`: PyTorch's `torch.optim.RMSprop` with its defaults (ρ = 0.99, no momentum,
 *   ε = 1e-8 added to the root: v −= lr·g / (√ms + ε)), as the note's run used.
 * - `rmsprop_tfjs`: tfjs's `RMSPropOptimizer` (ε inside the root: v −= lr·g / √(ms + ε)); early
 *   in training, when ms is of the order of ε, its steps are several times smaller.
 * - `adam`: tfjs's Adam, β = (0.9, 0.999), ε = 1e-8.
 *
 * Both RMSprops run their update as one fused kernel where the backend has it (`blas`:
 * `FusedRMSProp`, bit-identical to tfjs's elementwise kernels) and as tfjs ops elsewhere; slots,
 * `getWeights`/`setWeights` (and so checkpoints) are tfjs's `RMSPropOptimizer`'s.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED_RMSPROP, type RmspropAttrs } from "../lib/blas/optimizer_kernels.ts";

/** The hyperparameters {@link makeOptimizer} reads. */
export interface OptimizerParams {
  optimizer: "rmsprop" | "rmsprop_tfjs" | "adam";
  lr: number;
}

/** Where RMSprop adds ε: to √ms (PyTorch) or to ms under the root (tfjs). */
export type RmspropFormula = "pytorch" | "tfjs";

/** RMSprop's hyperparameters. */
export interface RmspropOptions {
  learningRate: number;
  /** ρ, the smoothing of the mean square (PyTorch's alpha). */
  decay: number;
  momentum: number;
  epsilon: number;
  formula: RmspropFormula;
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

/** One variable's tensors before an update (the inputs of the fused kernel). */
interface UpdateInputs {
  [name: string]: tf.Tensor;
  value: tf.Tensor;
  gradient: tf.Tensor;
  meanSquare: tf.Tensor;
  moment: tf.Tensor;
}

/**
 * PyTorch's RMSprop update in tfjs ops (the backends without the fused kernel):
 * ms′ = ms·ρ + g²·(1 − ρ), m′ = m·momentum + g·lr / (√ms′ + ε), v′ = v − m′.
 */
function pytorchUpdate(
  { value, gradient, meanSquare, moment }: UpdateInputs,
  attrs: RmspropAttrs,
): tf.Tensor[] {
  return tf.tidy(() => {
    const ms = tf.add(
      tf.mul(meanSquare, attrs.decay),
      tf.mul(tf.square(gradient), 1 - attrs.decay),
    );
    const step = tf.div(tf.mul(gradient, attrs.learningRate), tf.add(tf.sqrt(ms), attrs.epsilon));
    const m = tf.add(tf.mul(moment, attrs.momentum), step);
    return [tf.sub(value, m), ms, m];
  });
}

/** RMSprop (not centered) by either formula, fused where the active backend has the kernel. */
export class Rmsprop extends tf.RMSPropOptimizer {
  readonly formula: RmspropFormula;

  constructor({ learningRate, decay, momentum, epsilon, formula }: RmspropOptions) {
    super(learningRate, decay, momentum, epsilon, false);
    this.formula = formula;
  }

  override applyGradients(variableGradients: Parameters<tf.Optimizer["applyGradients"]>[0]): void {
    const fused = tf.getKernel(FUSED_RMSPROP, tf.getBackend()) !== undefined;
    if (!fused && this.formula === "tfjs") {
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
      epsilonInsideSqrt: this.formula === "tfjs" ? 1 : 0,
    };
    named.forEach(({ name, tensor: gradient }, i) => {
      const value = tf.engine().registeredVariables[name];
      const [meanSquare, moment] = this.#slots(value, i);
      if (gradient == null) return;
      const inputs: UpdateInputs = { value, gradient, meanSquare, moment };
      const [newValue, newMeanSquare, newMoment] = fused
        ? tf.engine().runKernel(FUSED_RMSPROP, inputs, attrs) as tf.Tensor[]
        : pytorchUpdate(inputs, attrs);
      meanSquare.assign(newMeanSquare);
      moment.assign(newMoment);
      value.assign(newValue);
      tf.dispose([newValue, newMeanSquare, newMoment]);
    });
    this.incrementIterations();
  }

  /** ρ, ε and the momentum, as a fused training-step kernel takes them. */
  get hyperparameters(): { decay: number; epsilon: number; momentum: number } {
    return { decay: this.decay, epsilon: this.epsilon, momentum: this.momentum };
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
 * The optimizer a training config asks for: both RMSprops with PyTorch's defaults (ρ = 0.99, no
 * momentum, ε = 1e-8), Adam with β = (0.9, 0.999), ε = 1e-8.
 */
export function makeOptimizer({ optimizer, lr }: OptimizerParams): tf.Optimizer {
  if (optimizer === "adam") return tf.train.adam(lr, 0.9, 0.999, 1e-8);
  const formula = optimizer === "rmsprop" ? "pytorch" : "tfjs";
  return new Rmsprop({ learningRate: lr, decay: 0.99, momentum: 0, epsilon: 1e-8, formula });
}
