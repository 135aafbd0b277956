/**
 * Fast JavaScript loops for the data-movement and elementwise work around the matrix products:
 * broadcasting binary ops, transposes, slices, tiles and sums over any axes. Each walks its arrays with
 * strides over merged dimensions instead of converting every flat index to coordinates, and
 * computes each element with exactly the arithmetic (and summation order) of tfjs's cpu kernels,
 * so the results are bit-identical to them.
 *
 * @module
 */

/** A numeric typed array these loops read and write. */
export type NumericArray = Float32Array | Int32Array;

/**
 * One row of a binary op: `out[o + i] = f(a[ia + i·sa], b[ib + i·sb])` for i < n.
 */
export type RowOp = (
  out: Float32Array,
  o: number,
  a: Float32Array,
  ia: number,
  sa: number,
  b: Float32Array,
  ib: number,
  sb: number,
  n: number,
) => void;

/**
 * Compiles a row loop for the elementwise expression `expr` of `x` (from a) and `y` (from b),
 * with separate loops for the common stride patterns (both contiguous, one side broadcast).
 * Each op gets its own compiled function, so the engine inlines the expression into tight,
 * monomorphic loops instead of calling a shared closure per element.
 */
function rowOp(expr: string): RowOp {
  const body = `
    if (sa === 1 && sb === 1) {
      for (let i = 0; i < n; i++) { const x = a[ia + i], y = b[ib + i]; out[o + i] = ${expr}; }
    } else if (sa === 0 && sb === 1) {
      const x = a[ia];
      for (let i = 0; i < n; i++) { const y = b[ib + i]; out[o + i] = ${expr}; }
    } else if (sa === 1 && sb === 0) {
      const y = b[ib];
      for (let i = 0; i < n; i++) { const x = a[ia + i]; out[o + i] = ${expr}; }
    } else {
      for (let i = 0; i < n; i++, ia += sa, ib += sb) {
        const x = a[ia], y = b[ib]; out[o + i] = ${expr};
      }
    }`;
  return new Function("out", "o", "a", "ia", "sa", "b", "ib", "sb", "n", body) as RowOp;
}

/**
 * Row loops of the binary ops this module accelerates, with the cpu kernels' arithmetic
 * (in double precision, rounded to float32 on store).
 */
export const ROW_OPS: Readonly<Record<string, RowOp>> = {
  add: rowOp("x + y"),
  sub: rowOp("x - y"),
  mul: rowOp("x * y"),
  div: rowOp("x / y"),
  squaredDifference: rowOp("(x - y) * (x - y)"),
  maximum: rowOp("Math.max(x, y)"),
  minimum: rowOp("Math.min(x, y)"),
};

/** An elementwise function of one array: `out[i] = f(x[i])` for i < n. */
export type UnaryOp = (out: Float32Array, x: Float32Array, n: number) => void;

/** Compiles the loop of the expression `expr` of `v` into its own function (see `rowOp`). */
function unaryOp(expr: string): UnaryOp {
  const body = `for (let i = 0; i < n; i++) { const v = x[i]; out[i] = ${expr}; }`;
  return new Function("out", "x", "n", body) as UnaryOp;
}

/** Unary ops with the cpu kernels' arithmetic (`Neg` multiplies by −1 there). */
export const UNARY_OPS: Readonly<Record<string, UnaryOp>> = {
  neg: unaryOp("-1 * v"),
  square: unaryOp("v * v"),
  sqrt: unaryOp("Math.sqrt(v)"),
};

/**
 * A scratch array of at least `n` elements for temporaries that never leave a kernel; the
 * same memory is handed out again on the next call.
 */
export function scratch(n: number): Float32Array {
  if (scratchBuffer.length < n) scratchBuffer = new Float32Array(n);
  return scratchBuffer.subarray(0, n);
}
let scratchBuffer = new Float32Array(0);

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/**
 * Drops size-1 dims and merges neighbours that every stride list walks contiguously, so loops
 * run over as few and as long dimensions as possible. Returns at least one dim.
 */
function mergeDims(dims: readonly number[], strideLists: readonly number[][]) {
  const outDims: number[] = [];
  const outStrides: number[][] = strideLists.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = outDims.length - 1;
    const mergeable = last >= 0 &&
      strideLists.every((s, j) => outStrides[j][last] === s[i] * dims[i]);
    if (mergeable) {
      outDims[last] *= dims[i];
      strideLists.forEach((s, j) => (outStrides[j][last] = s[i]));
    } else {
      outDims.push(dims[i]);
      strideLists.forEach((s, j) => outStrides[j].push(s[i]));
    }
  }
  if (outDims.length === 0) {
    outDims.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { dims: outDims, strides: outStrides };
}

/**
 * For every index of `dims` except the last, in row-major order, each stride list's offset:
 * `offsets[j][r]` is where row r starts for list j. The caller's inner loop covers the last dim.
 */
function rowOffsets(dims: readonly number[], strides: readonly number[][]): Int32Array[] {
  // Expand one dim at a time: every offset so far, followed by its dims[d] steps.
  let offsets = strides.map(() => Int32Array.of(0));
  for (let d = 0; d < dims.length - 1; d++) {
    const m = dims[d];
    offsets = offsets.map((prev, j) => {
      const next = new Int32Array(prev.length * m);
      const step = strides[j][d];
      for (let p = 0, r = 0; p < prev.length; p++) {
        for (let k = 0; k < m; k++, r++) next[r] = prev[p] + k * step;
      }
      return next;
    });
  }
  return offsets;
}

/** The broadcast of two shapes (aligned at the right; size-1 dims stretch), or an error. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a}] and [${b}] cannot be broadcast together (${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of an operand of `shape` over the dims of `outShape`, 0 where it broadcasts. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => (i < offset || shape[i - offset] === 1 ? 0 : own[i - offset]));
}

/**
 * `op(a, b)` elementwise with NumPy broadcasting; returns the values and the output shape.
 * The output array comes from `alloc` (its contents are all overwritten).
 */
export function binaryBroadcast(
  op: RowOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): { values: Float32Array; shape: number[] } {
  const shape = broadcastShape(aShape, bShape);
  const out = alloc(sizeOf(shape));
  if (out.length === 0) return { values: out, shape };
  const { dims, strides } = mergeDims(shape, [
    stridesOf(shape),
    broadcastStrides(aShape, shape),
    broadcastStrides(bShape, shape),
  ]);
  const n = dims[dims.length - 1];
  // The output is contiguous, so its last merged dim has stride 1 (or length 1).
  const [, sa, sb] = strides.map((s) => s[s.length - 1]);
  const [o, ia, ib] = rowOffsets(dims, strides);
  for (let r = 0; r < o.length; r++) op(out, o[r], a, ia[r], sa, b, ib[r], sb, n);
  return { values: out, shape };
}

/**
 * Copies from `x` into a new contiguous array of `outShape`: output element (i0, i1, …) is
 * `x[offset + Σ ik·inStrides[k]]`. Transposes, slices and tiles are all such copies.
 */
function stridedCopy<T extends NumericArray>(
  x: T,
  offset: number,
  outShape: readonly number[],
  inStrides: readonly number[],
  alloc: (n: number) => T = (n) => new (x.constructor as new (n: number) => T)(n),
): T {
  const out = alloc(sizeOf(outShape));
  if (out.length === 0) return out;
  const { dims, strides } = mergeDims(outShape, [stridesOf(outShape), [...inStrides]]);
  const n = dims[dims.length - 1];
  const si = strides[1][strides[1].length - 1];
  const [outRows, inRows] = rowOffsets(dims, strides);
  for (let r = 0; r < outRows.length; r++) {
    const o = outRows[r];
    let i = inRows[r] + offset;
    // A typed-array copy pays off only for long rows; short ones are cheaper as a loop.
    if (si === 1 && n >= 64) out.set(x.subarray(i, i + n), o);
    else for (let j = 0; j < n; j++, i += si) out[o + j] = x[i];
  }
  return out;
}

/**
 * `x` of `shape` with its axes permuted (`perm[i]` is the input axis of output axis i), into an
 * array from `alloc` when given.
 */
export function transpose<T extends NumericArray>(
  x: T,
  shape: readonly number[],
  perm: readonly number[],
  alloc?: (n: number) => T,
): { values: T; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const values = stridedCopy(x, 0, outShape, perm.map((p) => inStrides[p]), alloc);
  return { values, shape: outShape };
}

/** The block of `x` (of `shape`) starting at `begin` with extent `size` (all resolved). */
export function slice<T extends NumericArray>(
  x: T,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): T {
  const strides = stridesOf(shape);
  const offset = begin.reduce((o, b, i) => o + b * strides[i], 0);
  return stridedCopy(x, offset, size, strides);
}

/** `x` of `shape` repeated `reps[i]` times along each axis i. */
export function tile<T extends NumericArray>(
  x: T,
  shape: readonly number[],
  reps: readonly number[],
): { values: T; shape: number[] } {
  // Output axis i of extent reps[i]·shape[i] is the pair (repeat, position): stride 0, then 1.
  const strides = stridesOf(shape);
  const pairs = shape.flatMap((d, i) => [reps[i], d]);
  const pairStrides = strides.flatMap((s) => [0, s]);
  return {
    values: stridedCopy(x, 0, pairs, pairStrides),
    shape: shape.map((d, i) => d * reps[i]),
  };
}

/**
 * Sums `x` of `shape` over `axes` (kept as size-1 dims when `keepDims`). Each output is
 * accumulated in double precision in the input's memory order, as tfjs's cpu `Sum` does.
 */
export function sumAxes(
  x: Float32Array,
  shape: readonly number[],
  axes: readonly number[],
  keepDims: boolean,
): { values: Float32Array; shape: number[] } {
  const reduced = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
  const kept = shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const outShape = keepDims ? kept : shape.filter((_, i) => !reduced.has(i));
  const acc = new Float64Array(sizeOf(kept));
  if (x.length > 0) {
    const keptStrides = stridesOf(kept);
    const { dims, strides } = mergeDims(shape, [
      stridesOf(shape),
      shape.map((_, i) => (reduced.has(i) ? 0 : keptStrides[i])),
    ]);
    const n = dims[dims.length - 1];
    const so = strides[1][strides[1].length - 1];
    const [inRows, outRows] = rowOffsets(dims, strides);
    for (let r = 0; r < inRows.length; r++) {
      const i = inRows[r];
      const o = outRows[r];
      if (so === 0) {
        let s = acc[o];
        for (let j = 0; j < n; j++) s += x[i + j];
        acc[o] = s;
      } else {
        for (let j = 0; j < n; j++) acc[o + j] += x[i + j];
      }
    }
  }
  return { values: Float32Array.from(acc), shape: outShape };
}

/**
 * The index along `axis` of the smallest (`max` false) or largest value of `x` for every other
 * position, as tfjs's cpu `ArgMin`/`ArgMax` compute it: a scan from index 0 in which only a
 * strictly smaller (larger) value replaces the best so far, so the first of equal values wins
 * and a NaN never does; an empty axis gives 0. Reads along the axis in place, no transpose.
 */
export function argExtreme(
  x: Float32Array,
  shape: readonly number[],
  axis: number,
  max: boolean,
): { values: Int32Array; shape: number[] } {
  const n = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = x[base];
      let at = 0;
      for (let j = 1; j < n; j++) {
        const v = x[base + j * inner];
        if (max ? v > best : v < best) {
          best = v;
          at = j;
        }
      }
      out[o * inner + i] = at;
    }
  }
  return { values: out, shape: shape.filter((_, i) => i !== axis) };
}
