/**
 * tfjs kernels for the `blas` backend that replace cpu kernels whose JavaScript dominates a
 * training step after the matrix products: broadcasting binary ops (the cpu kernels convert
 * every index to coordinates), `Transpose`, `Sum`/`Mean` over leading axes (the cpu kernels
 * transpose first), `ArgMin`/`ArgMax` (likewise), `Neg`, `Square`, `Sqrt`, `ZerosLike` and
 * `OnesLike`; all but the reductions write pooled outputs.
 * Same arithmetic as the cpu kernels, so bit-identical results; inputs other than float32
 * (int32 for `Transpose`) go to the cpu kernels.
 *
 * @module
 */
import {
  Add,
  ArgMax,
  ArgMin,
  type KernelConfig,
  type KernelFunc,
  Maximum,
  Mean,
  Minimum,
  Multiply,
  Neg,
  OnesLike,
  RealDiv,
  Sqrt,
  Square,
  SquaredDifference,
  Sub,
  Sum,
  type TensorInfo,
  Transpose,
  util,
  ZerosLike,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { kernelFunc } from "./matmul_kernels.ts";
import {
  argExtreme,
  binaryBroadcast,
  broadcastShape,
  type NumericArray,
  ROW_OPS,
  scratch,
  sumAxes,
  transpose,
  UNARY_OPS,
} from "./strided.ts";
import { level1Binary } from "./level1.ts";
import { outputArray } from "./pool.ts";
import type { OpenBlas } from "./openblas.ts";

/** The arguments tfjs passes a kernel function. */
export type Args = Parameters<KernelFunc>[0];

/** The typed array holding a tensor's values in a cpu-layout backend. */
export function valuesOf(backend: MathBackendCPU, t: TensorInfo): NumericArray {
  return backend.data.get(t.dataId).values as NumericArray;
}

/**
 * A kernel running `fast` when every input's dtype is in `dtypes` and `accepts(args)` holds,
 * and the cpu kernel `name` otherwise.
 */
export function fastKernel(
  name: string,
  backendName: string,
  fast: (args: Args, backend: MathBackendCPU) => TensorInfo,
  dtypes: readonly string[] = ["float32"],
  accepts: (args: Args) => boolean = () => true,
): KernelConfig {
  return {
    kernelName: name,
    backendName,
    kernelFunc: (args) => {
      const inputs = Object.values(args.inputs) as TensorInfo[];
      if (inputs.every((t) => dtypes.includes(t.dtype)) && accepts(args)) {
        return fast(args, args.backend as MathBackendCPU);
      }
      return kernelFunc(name, "cpu")(args);
    },
  };
}

const UNARY: Record<string, string> = { [Neg]: "neg", [Square]: "square", [Sqrt]: "sqrt" };

const BINARY: Record<string, string> = {
  [Add]: "add",
  [Sub]: "sub",
  [Multiply]: "mul",
  [RealDiv]: "div",
  [SquaredDifference]: "squaredDifference",
  [Maximum]: "maximum",
  [Minimum]: "minimum",
};

/**
 * The elementwise, transpose and reduction kernel configs for `backendName`; adds, subtracts
 * and scalings use `blas` level 1 where they can.
 */
export function elementwiseKernels(blas: OpenBlas, backendName: string): KernelConfig[] {
  const binary = Object.entries(BINARY).map(([name, op]) =>
    fastKernel(name, backendName, ({ inputs }, backend) => {
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const av = valuesOf(backend, a) as Float32Array;
      const bv = valuesOf(backend, b) as Float32Array;
      const shape = broadcastShape(a.shape, b.shape);
      const alloc = (n: number) => outputArray(backend, n);
      const native = op === "add" || op === "sub" || op === "mul"
        ? level1Binary(blas, op, av, bv, util.sizeFromShape(shape), alloc)
        : undefined;
      const out = native ?? binaryBroadcast(ROW_OPS[op], av, a.shape, bv, b.shape, alloc).values;
      return backend.makeTensorInfo(shape, "float32", out);
    })
  );

  const transposeKernel = fastKernel(Transpose, backendName, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const { perm } = attrs as { perm: number[] };
    const values = valuesOf(backend, x);
    const out = values instanceof Float32Array
      ? transpose(values, x.shape, perm, (n) => outputArray(backend, n))
      : transpose(values, x.shape, perm);
    return backend.makeTensorInfo(out.shape, x.dtype, out.values);
  }, ["float32", "int32"]);

  // Mean = Sum(x / n) with x / n rounded to float32 first, exactly as the cpu kernel does.
  const reduce = (mean: boolean) => ({ inputs, attrs }: Args, backend: MathBackendCPU) => {
    const { x } = inputs as { x: TensorInfo };
    const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape);
    let values = valuesOf(backend, x) as Float32Array;
    if (mean) {
      const n = axes.reduce((p, a) => p * x.shape[a], 1);
      const scaled = scratch(values.length);
      for (let i = 0; i < values.length; i++) scaled[i] = values[i] / n;
      values = scaled;
    }
    const out = sumAxes(values, x.shape, axes, keepDims);
    return backend.makeTensorInfo(out.shape, "float32", out.values);
  };

  // ArgMin/ArgMax scan along the axis where it lies; the cpu kernels transpose it last first.
  const argKernel = (name: string, max: boolean) =>
    fastKernel(name, backendName, ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const [axis] = util.parseAxisParam((attrs as { axis: number }).axis, x.shape);
      const values = valuesOf(backend, x) as Float32Array;
      const out = argExtreme(values, x.shape, axis, max);
      return backend.makeTensorInfo(out.shape, "int32", out.values);
    });

  const unary = Object.entries(UNARY).map(([name, op]) =>
    fastKernel(name, backendName, ({ inputs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const values = valuesOf(backend, x) as Float32Array;
      const out = outputArray(backend, values.length);
      UNARY_OPS[op](out, values, values.length);
      return backend.makeTensorInfo(x.shape, "float32", out);
    })
  );

  // zerosLike/onesLike (gradients create many): a pooled array filled natively.
  const filled = (name: string, value: number) =>
    fastKernel(name, backendName, ({ inputs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const out = outputArray(backend, util.sizeFromShape(x.shape)).fill(value);
      return backend.makeTensorInfo(x.shape, "float32", out);
    });

  return [
    ...binary,
    ...unary,
    filled(ZerosLike, 0),
    filled(OnesLike, 1),
    transposeKernel,
    fastKernel(Sum, backendName, reduce(false)),
    fastKernel(Mean, backendName, reduce(true)),
    argKernel(ArgMin, false),
    argKernel(ArgMax, true),
  ];
}
