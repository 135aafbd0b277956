/**
 * `LlgaeRmspropStep`, a tfjs kernel of the `blas` backend that runs a whole LGAE/LLGAE training
 * step: the loss and gradients of the fast formulation ({@link FusedGradients}) and the RMSprop
 * update of μ, W and their running means of g², over arrays allocated once per model size.
 * Registered by {@link registerFusedStep}; the trainer (stages/train/trainer.ts) calls it.
 *
 * RMSprop (no momentum, not centered), ms′ = ρ·ms + (1 − ρ)·g², then by `formula`:
 * - `pytorch`: v′ = v − lr·g / (√ms′ + ε), `torch.optim.RMSprop`'s update;
 * - `tfjs`: v′ = v − lr·g / √(ms′ + ε), `tf.train.rmsprop`'s.
 * Each value is computed in float64 from the float32 inputs and rounded once when stored.
 *
 * @module
 */
import {
  getKernel,
  type KernelConfig,
  registerKernel,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { blasOf } from "../lib/blas/backend.ts";
import { outputArray } from "../lib/blas/pool.ts";
import type { OpenBlas } from "../lib/blas/openblas.ts";
import { FusedGradients } from "./fused_gradients.ts";
import type { RmspropFormula } from "./optimizer.ts";

/** The kernel's name; inputs {@link FusedStepInputs}, attrs {@link FusedStepAttrs}. */
export const LLGAE_RMSPROP_STEP = "LlgaeRmspropStep";

/** The tensors of one step, all float32. */
export interface FusedStepInputs {
  [name: string]: TensorInfo;
  /** The batch [B,D]. */
  x: TensorInfo;
  /** μ [K,D]. */
  mu: TensorInfo;
  /** W [K,D,E]. */
  W: TensorInfo;
  /** Running mean of g² for μ [K,D]. */
  muMeanSquare: TensorInfo;
  /** Running mean of g² for W [K,D,E]. */
  wMeanSquare: TensorInfo;
}

/** The encoder's and the optimizer's settings. */
export interface FusedStepAttrs {
  [name: string]: number | string;
  /** T. */
  steps: number;
  /** β. */
  beta: number;
  /** λ. */
  latentDecay: number;
  learningRate: number;
  /** ρ, the smoothing of the running mean of g². */
  decay: number;
  /** ε. */
  epsilon: number;
  formula: RmspropFormula;
}

/** One {@link FusedGradients} per model size and encoder, grown to the largest batch seen. */
const workspaces = new Map<string, FusedGradients>();

function workspaceFor(
  blas: OpenBlas,
  x: TensorInfo,
  W: TensorInfo,
  { steps, beta, latentDecay }: FusedStepAttrs,
): FusedGradients {
  const [K, D, E] = W.shape;
  const rows = x.shape[0];
  const key = [K, D, E, steps, beta, latentDecay].join();
  let work = workspaces.get(key);
  if (!work || work.maxRows < rows) {
    work = new FusedGradients(blas, { K, D, E }, { steps, beta, latentDecay }, rows);
    workspaces.set(key, work);
  }
  return work;
}

/**
 * RMSprop on one variable: writes v′ into `newValue` and ms′ into `newMeanSquare` from v, g and
 * ms (see the module comment for the formulas).
 */
export function rmspropUpdate(
  arrays: {
    value: Float32Array;
    gradient: Float32Array;
    meanSquare: Float32Array;
    newValue: Float32Array;
    newMeanSquare: Float32Array;
  },
  { learningRate: lr, decay: rho, epsilon: eps, formula }: FusedStepAttrs,
): void {
  const { value, gradient, meanSquare, newValue, newMeanSquare } = arrays;
  const keep = 1 - rho;
  const n = value.length;
  if (formula === "pytorch") {
    for (let i = 0; i < n; i++) {
      const g = gradient[i];
      const ms = newMeanSquare[i] = rho * meanSquare[i] + keep * g * g;
      newValue[i] = value[i] - lr * g / (Math.sqrt(ms) + eps);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const g = gradient[i];
      const ms = newMeanSquare[i] = rho * meanSquare[i] + keep * g * g;
      newValue[i] = value[i] - lr * g / Math.sqrt(ms + eps);
    }
  }
}

/** Returns [loss, μ′, W′, ms_μ′, ms_W′] as new tensors; the inputs are left as they were. */
function fusedStep(
  blas: OpenBlas,
  inputs: FusedStepInputs,
  attrs: FusedStepAttrs,
  backend: MathBackendCPU,
): TensorInfo[] {
  const { x, mu, W, muMeanSquare, wMeanSquare } = inputs;
  const [K, D, E] = W.shape;
  const expect: [string, TensorInfo, number[]][] = [
    ["x", x, [x.shape[0], D]],
    ["mu", mu, [K, D]],
    ["muMeanSquare", muMeanSquare, [K, D]],
    ["wMeanSquare", wMeanSquare, [K, D, E]],
  ];
  for (const [name, t, shape] of expect) {
    if (t.dtype !== "float32" || t.shape.join() !== shape.join() || W.dtype !== "float32") {
      throw new Error(
        `${LLGAE_RMSPROP_STEP}: ${name} must be float32 [${shape}] for W [${W.shape}], ` +
          `found ${t.dtype} [${t.shape}]`,
      );
    }
  }
  const values = (t: TensorInfo) => backend.data.get(t.dataId).values as Float32Array;
  const work = workspaceFor(blas, x, W, attrs);
  const loss = work.compute(values(x), x.shape[0], values(mu), values(W));
  const update = (v: TensorInfo, gradient: Float32Array, ms: TensorInfo) => {
    const newValue = outputArray(backend, gradient.length);
    const newMeanSquare = outputArray(backend, gradient.length);
    rmspropUpdate(
      { value: values(v), gradient, meanSquare: values(ms), newValue, newMeanSquare },
      attrs,
    );
    return [newValue, newMeanSquare].map((a) => backend.makeTensorInfo(v.shape, "float32", a));
  };
  const [newMu, newMuMeanSquare] = update(mu, work.dMu, muMeanSquare);
  const [newW, newWMeanSquare] = update(W, work.dW, wMeanSquare);
  const lossInfo = backend.makeTensorInfo([], "float32", Float32Array.of(loss));
  return [lossInfo, newMu, newW, newMuMeanSquare, newWMeanSquare];
}

/**
 * Registers {@link LLGAE_RMSPROP_STEP} for `backendName` if it is a blas backend (once);
 * returns whether the kernel is available there.
 */
export function registerFusedStep(backendName: string): boolean {
  if (getKernel(LLGAE_RMSPROP_STEP, backendName)) return true;
  const blas = blasOf(backendName);
  if (!blas) return false;
  const config: KernelConfig = {
    kernelName: LLGAE_RMSPROP_STEP,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) =>
      fusedStep(
        blas,
        inputs as FusedStepInputs,
        attrs as unknown as FusedStepAttrs,
        backend as MathBackendCPU,
      ),
  };
  registerKernel(config);
  return true;
}
