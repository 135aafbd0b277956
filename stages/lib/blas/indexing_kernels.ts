/**
 * tfjs kernels for the `blas` backend that move whole slices instead of single elements:
 * `GatherV2`, `UnsortedSegmentSum` (the gradient of a gather), `Slice` (non-contiguous blocks;
 * contiguous ones stay zero-copy views in the cpu kernel) and `Tile` (which `broadcastTo` uses).
 * Bit-identical to the cpu kernels; other dtypes go to them.
 *
 * @module
 */
import {
  backend_util,
  GatherV2,
  type KernelConfig,
  Slice,
  slice_util,
  type TensorInfo,
  Tile,
  UnsortedSegmentSum,
  util,
} from "@tensorflow/tfjs-core";
import { type Args, fastKernel, valuesOf } from "./elementwise_kernels.ts";
import { gatherSlices, segmentSum } from "./indexing.ts";
import { slice, tile } from "./strided.ts";

const NUMERIC = ["float32", "int32"] as const;

/** The gather, segment-sum, slice and tile kernel configs for `backendName`. */
export function indexingKernels(backendName: string): KernelConfig[] {
  const gather = fastKernel(
    GatherV2,
    backendName,
    ({ inputs, attrs }, backend) => {
      const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
      const { axis, batchDims } = attrs as { axis: number; batchDims?: number };
      const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
      const info = backend_util.segment_util.collectGatherOpShapeInfo(
        x,
        indices,
        parsedAxis,
        batchDims ?? 0,
      );
      const out = gatherSlices(valuesOf(backend, x), valuesOf(backend, indices), {
        batch: info.batchSize,
        outer: info.outerSize,
        dim: info.dimSize,
        slice: info.sliceSize,
      });
      return backend.makeTensorInfo(info.outputShape, x.dtype, out);
    },
    NUMERIC,
    ({ inputs }) => inputs.indices!.dtype === "int32",
  );

  const segments = fastKernel(
    UnsortedSegmentSum,
    backendName,
    ({ inputs, attrs }, backend) => {
      const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
      const { numSegments } = attrs as { numSegments: number };
      const sliceShape = x.shape.slice(segmentIds.shape.length);
      const out = segmentSum(
        valuesOf(backend, x) as Float32Array,
        valuesOf(backend, segmentIds),
        numSegments,
        util.sizeFromShape(sliceShape),
      );
      return backend.makeTensorInfo([numSegments, ...sliceShape], "float32", out);
    },
    NUMERIC,
    ({ inputs }) => inputs.x!.dtype === "float32",
  );

  const contiguous = ({ inputs, attrs }: Args) => {
    const { x } = inputs as { x: TensorInfo };
    const { begin, size } = attrs as { begin: number[]; size: number[] };
    const [b, s] = slice_util.parseSliceParams(x, begin, size);
    return slice_util.isSliceContinous(x.shape, b, s);
  };
  const sliceKernel = fastKernel(
    Slice,
    backendName,
    ({ inputs, attrs }, backend) => {
      const { x } = inputs as { x: TensorInfo };
      const { begin, size } = attrs as { begin: number[]; size: number[] };
      const [b, s] = slice_util.parseSliceParams(x, begin, size);
      slice_util.assertParamsValid(x, b, s);
      return backend.makeTensorInfo(s, x.dtype, slice(valuesOf(backend, x), x.shape, b, s));
    },
    NUMERIC,
    (args) => !contiguous(args),
  );

  const tileKernel = fastKernel(Tile, backendName, ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const out = tile(valuesOf(backend, x), x.shape, (attrs as { reps: number[] }).reps);
    return backend.makeTensorInfo(out.shape, x.dtype, out.values);
  }, NUMERIC);

  return [gather, segments, sliceKernel, tileKernel];
}
