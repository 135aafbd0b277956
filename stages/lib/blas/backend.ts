/**
 * Registers the tfjs backend `blas`: the cpu backend's data layout and kernels, with the
 * kernels that dominate training replaced by BLAS calls and faster JavaScript, plus a fused
 * RMSprop update (`FusedRMSProp`) that only this backend has.
 *
 * @module
 */
import {
  copyRegisteredKernels,
  findBackendFactory,
  registerBackend,
  registerKernel,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { elementwiseKernels } from "./elementwise_kernels.ts";
import { indexingKernels } from "./indexing_kernels.ts";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { matMulKernels } from "./matmul_kernels.ts";
import { optimizerKernels } from "./optimizer_kernels.ts";
import { PooledCpuBackend } from "./pool.ts";
import type { OpenBlas } from "./openblas.ts";

/** The backend name used unless another is given. */
export const BLAS_BACKEND = "blas";

const registered = new Map<string, OpenBlas>();

/**
 * The OpenBLAS behind backend `name`, if {@link registerBlasBackend} registered it (its matrix
 * products read transposed operands for free through the BLAS flags).
 */
export function blasOf(name: string): OpenBlas | undefined {
  return registered.get(name);
}

/**
 * Registers backend `name` (default `blas`) with tfjs: a cpu backend (with pooled output arrays)
 * whose kernels are the cpu backend's except the ones this module replaces. `pooled: false`
 * allocates every output afresh (same numbers, slower). Registering a name twice is a no-op.
 * The backend gets priority 0 (below cpu), so it is only used when set with `tf.setBackend`.
 */
export function registerBlasBackend(
  blas: OpenBlas,
  name = BLAS_BACKEND,
  options: { pooled?: boolean } = {},
): void {
  if (findBackendFactory(name)) return;
  registered.set(name, blas);
  const pooled = options.pooled ?? true;
  registerBackend(name, () => (pooled ? new PooledCpuBackend() : new MathBackendCPU()), 0);
  copyRegisteredKernels("cpu", name);
  const overrides = [
    ...matMulKernels(blas, name),
    ...elementwiseKernels(blas, name),
    ...indexingKernels(name),
  ];
  for (const config of optimizerKernels(name)) registerKernel(config);
  for (const config of overrides) {
    unregisterKernel(config.kernelName, name);
    registerKernel(config);
  }
}
