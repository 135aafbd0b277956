/**
 * A fused RMSprop update for the `blas` backend: one pass over a variable computes what a chain
 * of tfjs's elementwise kernels computes, each intermediate rounded to float32 as those kernels
 * round it, so the results are bit-identical to them. Two formulas, chosen by the attr
 * `epsilonInsideSqrt`:
 *
 *   ms′  = ms·ρ + g²·(1 − ρ)
 *   m′   = m·momentum + g·lr / (√ms′ + ε)      PyTorch's `RMSprop` (epsilonInsideSqrt 0)
 *   m′   = m·momentum + g·lr / √(ms′ + ε)      tfjs's `RMSPropOptimizer` (epsilonInsideSqrt 1)
 *   v′   = v − m′
 *
 * (float32 products, sums, quotients and square roots computed in float64 and rounded once are
 * correctly rounded, which is what the cpu kernels store.)
 *
 * @module
 */
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { valuesOf } from "./elementwise_kernels.ts";
import { outputArray } from "./pool.ts";

/** The kernel's name; its inputs are {@link RmspropInputs}, its attrs {@link RmspropAttrs}. */
export const FUSED_RMSPROP = "FusedRMSProp";

/** The tensors of one variable's update, all float32 of one shape. */
export interface RmspropInputs {
  [name: string]: TensorInfo;
  /** v, the variable's value. */
  value: TensorInfo;
  /** g, its gradient. */
  gradient: TensorInfo;
  /** ms, the running mean of g². */
  meanSquare: TensorInfo;
  /** m, the running update (tfjs keeps it even when momentum is 0). */
  moment: TensorInfo;
}

/** The hyperparameters, as `tf.train.rmsprop` takes them, and the formula. */
export interface RmspropAttrs {
  [name: string]: number;
  learningRate: number;
  /** ρ. */
  decay: number;
  momentum: number;
  /** ε. */
  epsilon: number;
  /** 1: ε inside the square root (tfjs's formula); 0: added to √ms′ (PyTorch's). */
  epsilonInsideSqrt: number;
}

/** Returns [v′, ms′, m′] as new tensors; the inputs are left as they were. */
function fusedRmsprop(
  { value, gradient, meanSquare, moment }: RmspropInputs,
  attrs: RmspropAttrs,
  backend: MathBackendCPU,
): TensorInfo[] {
  for (const t of [value, gradient, meanSquare, moment]) {
    if (t.dtype !== "float32" || t.shape.join() !== value.shape.join()) {
      throw new Error(
        `${FUSED_RMSPROP}: every input must be float32 of shape [${value.shape}], ` +
          `found ${t.dtype} [${t.shape}]`,
      );
    }
  }
  const f = Math.fround;
  // tfjs turns each scalar into a float32 tensor, so each is rounded first.
  const rho = f(attrs.decay), keep = f(1 - attrs.decay), lr = f(attrs.learningRate);
  const eps = f(attrs.epsilon), momentum = f(attrs.momentum);
  const inside = attrs.epsilonInsideSqrt === 1;
  const v = valuesOf(backend, value), g = valuesOf(backend, gradient);
  const ms = valuesOf(backend, meanSquare), m = valuesOf(backend, moment);
  const n = v.length;
  const newV = outputArray(backend, n), newMs = outputArray(backend, n);
  const newM = outputArray(backend, n);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const msi = f(f(ms[i] * rho) + f(f(gi * gi) * keep)); // ms·ρ + g²·(1 − ρ)
    const denominator = inside
      ? f(Math.sqrt(f(msi + eps))) // √(ms′ + ε)
      : f(f(Math.sqrt(msi)) + eps); // √ms′ + ε
    const step = f(f(gi * lr) / denominator); // g·lr / denominator
    const mi = f(f(m[i] * momentum) + step); // m·momentum + step
    newMs[i] = msi;
    newM[i] = mi;
    newV[i] = v[i] - mi; // v − m′, rounded by the store
  }
  return [newV, newMs, newM].map((out) => backend.makeTensorInfo(value.shape, "float32", out));
}

/** The {@link FUSED_RMSPROP} kernel config for `backendName`. */
export function optimizerKernels(backendName: string): KernelConfig[] {
  return [{
    kernelName: FUSED_RMSPROP,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) =>
      fusedRmsprop(
        inputs as RmspropInputs,
        attrs as unknown as RmspropAttrs,
        backend as MathBackendCPU,
      ),
  }];
}
