/**
 * tfjs kernels `BatchMatMul` and `_FusedMatMul` for a backend that stores data like the cpu
 * backend, with the products computed by BLAS. Non-float32 inputs go to the cpu kernels.
 *
 * @module
 */
import {
  _FusedMatMul,
  type _FusedMatMulAttrs,
  Add,
  BatchMatMul,
  type BatchMatMulAttrs,
  Elu,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  LeakyRelu,
  Prelu,
  Relu,
  Relu6,
  Sigmoid,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { batchMatMul } from "./matmul.ts";
import { outputArray } from "./pool.ts";
import type { OpenBlas } from "./openblas.ts";

/** The kernel registered under `name` for backend `backendName`; throws if there is none. */
export function kernelFunc(name: string, backendName: string): KernelFunc {
  const config = getKernel(name, backendName);
  if (!config) throw new Error(`no tfjs kernel ${name} registered for backend ${backendName}`);
  return config.kernelFunc;
}

function values(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

function matMulInfo(
  blas: OpenBlas,
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const out = batchMatMul(
    blas,
    { values: values(backend, a), shape: a.shape },
    { values: values(backend, b), shape: b.shape },
    transposeA,
    transposeB,
    (n) => outputArray(backend, n),
  );
  return backend.makeTensorInfo(out.shape, "float32", out.values);
}

/** Inputs of both matmul kernels (`bias` and the PReLU weights only for the fused one). */
interface MatMulInputs {
  [name: string]: TensorInfo | undefined;
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/** The activation kernels `_FusedMatMul` may apply after the product and bias. */
const ACTIVATIONS: Record<string, string> = {
  relu: Relu,
  relu6: Relu6,
  elu: Elu,
  sigmoid: Sigmoid,
  leakyrelu: LeakyRelu,
  prelu: Prelu,
};

/** `BatchMatMul` and `_FusedMatMul` configs for `backendName`, computed with `blas`. */
export function matMulKernels(blas: OpenBlas, backendName: string): KernelConfig[] {
  const batchMatMulKernel: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as MatMulInputs;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (a.dtype !== "float32" || b.dtype !== "float32") {
      return kernelFunc(BatchMatMul, "cpu")({ inputs, backend, attrs });
    }
    return matMulInfo(blas, backend as MathBackendCPU, a, b, transposeA, transposeB);
  };

  // y = activation(op(a)·op(b) + bias); bias and activation use this backend's own kernels.
  const fusedMatMulKernel: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as MatMulInputs;
    const { transposeA, transposeB, activation, leakyreluAlpha } =
      attrs as unknown as _FusedMatMulAttrs;
    if (a.dtype !== "float32" || b.dtype !== "float32") {
      return kernelFunc(_FusedMatMul, "cpu")({ inputs, backend, attrs });
    }
    const cpu = backend as MathBackendCPU;
    let current = matMulInfo(blas, cpu, a, b, transposeA, transposeB);
    if (bias) {
      const sum = kernelFunc(Add, backendName)({ inputs: { a: current, b: bias }, backend });
      cpu.disposeIntermediateTensorInfo(current);
      current = sum as TensorInfo;
    }
    if (activation && activation !== "linear") {
      const name = ACTIVATIONS[activation];
      if (!name) throw new Error(`_FusedMatMul: unsupported activation '${activation}'`);
      const activated = kernelFunc(name, backendName)({
        inputs: name === Prelu ? { x: current, alpha: preluActivationWeights! } : { x: current },
        backend,
        attrs: name === LeakyRelu ? { alpha: leakyreluAlpha ?? 0.2 } : {},
      });
      cpu.disposeIntermediateTensorInfo(current);
      current = activated as TensorInfo;
    }
    return current;
  };

  return [
    { kernelName: BatchMatMul, backendName, kernelFunc: batchMatMulKernel },
    { kernelName: _FusedMatMul, backendName, kernelFunc: fusedMatMulKernel },
  ];
}
