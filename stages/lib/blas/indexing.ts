/**
 * Gathers and segment sums on plain arrays: whole contiguous slices copied or accumulated at
 * once, where tfjs's cpu kernels convert every element's index (gather) or build one masked
 * copy of the input per segment (segment sum).
 *
 * @module
 */
import type { NumericArray } from "./strided.ts";

/**
 * `x` viewed as [batch, outer, dim, slice]; `indices` as [batch, n]. Returns
 * [batch, outer, n, slice] with out[b, o, j] = x[b, o, indices[b, j]]. Throws on an index
 * outside [0, dim).
 */
export function gatherSlices<T extends NumericArray>(
  x: T,
  indices: ArrayLike<number>,
  sizes: { batch: number; outer: number; dim: number; slice: number },
): T {
  const { batch, outer, dim, slice } = sizes;
  const n = indices.length / batch;
  for (let i = 0; i < indices.length; i++) {
    if (!(indices[i] >= 0 && indices[i] < dim)) {
      throw new RangeError(`gather: index ${indices[i]} is not in [0, ${dim - 1}]`);
    }
  }
  const out = new (x.constructor as new (n: number) => T)(batch * outer * n * slice);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outer; r++) {
      const base = (b * outer + r) * dim;
      for (let j = 0; j < n; j++, o += slice) {
        const from = (base + indices[b * n + j]) * slice;
        if (slice >= 64) out.set(x.subarray(from, from + slice), o);
        else for (let k = 0; k < slice; k++) out[o + k] = x[from + k];
      }
    }
  }
  return out;
}

/**
 * Sums the rows of `x` (viewed as [rows, slice]) into `segments` rows by `ids` (one per row;
 * ids outside [0, segments) are dropped), accumulating in double precision in row order as
 * tfjs's cpu `UnsortedSegmentSum` does.
 */
export function segmentSum(
  x: Float32Array,
  ids: ArrayLike<number>,
  segments: number,
  slice: number,
): Float32Array {
  const acc = new Float64Array(segments * slice);
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r];
    if (!(id >= 0 && id < segments)) continue;
    const o = id * slice;
    const i = r * slice;
    for (let j = 0; j < slice; j++) acc[o + j] += x[i + j];
  }
  return Float32Array.from(acc);
}
