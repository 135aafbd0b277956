/**
 * Batched matrix products with NumPy-style broadcasting of the batch dimensions, computed by
 * BLAS GEMM: the shape logic of tfjs's `BatchMatMul` on plain float32 arrays.
 *
 * @module
 */
import type { OpenBlas } from "./openblas.ts";
import { broadcastShape, scratch } from "./strided.ts";

/**
 * Below this many columns per product, a shared A meets the batches of B in one wide GEMM:
 * OpenBLAS multiplies 360×784 by 784×20 at well under the rate of 784×220 (and on one thread,
 * being small), and packing the batches side by side costs less than that. Chosen by shape
 * alone, so results stay deterministic. (The LLGAE step: x·W_k for all k, and xᵀ·∂P_k.)
 */
const NARROW_COLUMNS = 64;

/** A float32 array with its row-major shape. */
export interface Float32Tensor {
  values: Float32Array;
  shape: number[];
}

/**
 * For each output batch index, the batch index into an operand whose batch shape `shape`
 * broadcasts to `outShape` (size-1 dims repeat).
 */
function batchIndexMap(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const outSize = outShape.reduce((p, d) => p * d, 1);
  const map = new Int32Array(outSize);
  const rank = outShape.length;
  const offset = rank - shape.length;
  // Strides of the operand, zero where it broadcasts.
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i + offset] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  for (let o = 0; o < outSize; o++) {
    let rem = o;
    let idx = 0;
    for (let i = rank - 1; i >= 0; i--) {
      idx += (rem % outShape[i]) * strides[i];
      rem = Math.floor(rem / outShape[i]);
    }
    map[o] = idx;
  }
  return map;
}

/**
 * op(A)·op(B) for tensors of rank ≥ 2 whose leading (batch) dims broadcast, as tfjs's
 * `tf.matMul(a, b, transposeA, transposeB)` defines it, into an array from `alloc`. Throws when
 * the inner dims differ.
 */
export function batchMatMul(
  blas: OpenBlas,
  a: Float32Tensor,
  b: Float32Tensor,
  transposeA: boolean,
  transposeB: boolean,
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): Float32Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) {
    throw new Error(`matMul needs rank >= 2 operands, got shapes [${a.shape}] and [${b.shape}]`);
  }
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const kA = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (kA !== kB) {
    throw new Error(
      `matMul inner dimensions differ: ${kA} vs ${kB} for shapes [${a.shape}] and [${b.shape}] ` +
        `with transposeA=${transposeA}, transposeB=${transposeB}`,
    );
  }
  const k = kA;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = broadcastShape(aBatch, bBatch);
  const batches = outBatch.reduce((p, d) => p * d, 1);
  const out = alloc(batches * m * n); // every element is written below
  const shape = [...outBatch, m, n];
  if (out.length === 0) return { values: out, shape };

  const bBatches = bBatch.reduce((p, d) => p * d, 1);
  const aBatches = aBatch.reduce((p, d) => p * d, 1);
  if (bBatches === 1 && !transposeA) {
    // One shared B: stack every batch of A into one tall GEMM (same values, fewer calls).
    blas.sgemm(false, transposeB, batches * m, n, k, a.values, b.values, out);
    return { values: out, shape };
  }
  if (aBatches === 1 && bBatches > 1 && n < NARROW_COLUMNS) {
    wideProduct(blas, a.values, b.values, transposeA, transposeB, batches, m, k, n, out);
    return { values: out, shape };
  }
  const aMap = batchIndexMap(aBatch, outBatch);
  const bMap = batchIndexMap(bBatch, outBatch);
  const aSize = m * k;
  const bSize = k * n;
  const cSize = m * n;
  for (let i = 0; i < batches; i++) {
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      a.values.subarray(aMap[i] * aSize, (aMap[i] + 1) * aSize),
      b.values.subarray(bMap[i] * bSize, (bMap[i] + 1) * bSize),
      out.subarray(i * cSize, (i + 1) * cSize),
    );
  }
  return { values: out, shape };
}

/**
 * op(A)·op(B_i) for one shared A and `batches` matrices B_i (k×n after op) as one GEMM:
 * op(A)·[op(B_1) … op(B_batches)] (m × batches·n), then each block of n columns is copied to
 * its place in `out` [batches, m, n].
 */
function wideProduct(
  blas: OpenBlas,
  a: Float32Array,
  b: Float32Array,
  transposeA: boolean,
  transposeB: boolean,
  batches: number,
  m: number,
  k: number,
  n: number,
  out: Float32Array,
): void {
  const width = batches * n;
  const work = scratch(k * width + m * width);
  const packed = work.subarray(0, k * width); // packed[r, i·n + c] = op(B_i)[r, c]
  const wide = work.subarray(k * width); // op(A)·packed, m × width
  for (let i = 0; i < batches; i++) {
    const base = i * k * n;
    for (let r = 0; r < k; r++) {
      const to = r * width + i * n;
      if (transposeB) { // B_i is n×k
        for (let c = 0; c < n; c++) packed[to + c] = b[base + c * k + r];
      } else {
        const from = base + r * n;
        for (let c = 0; c < n; c++) packed[to + c] = b[from + c];
      }
    }
  }
  blas.sgemm(transposeA, false, m, width, k, a, packed, wide);
  for (let i = 0; i < batches; i++) {
    for (let r = 0; r < m; r++) {
      const from = r * width + i * n, to = (i * m + r) * n;
      for (let c = 0; c < n; c++) out[to + c] = wide[from + c];
    }
  }
}
