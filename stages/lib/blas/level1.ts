/**
 * Add, subtract and scale through BLAS level 1 (a memory copy, then `saxpy` or `sscal`), for
 * the cases that need no broadcasting beyond a single value: both operands laid out like the
 * output, or one of them a single value. Native loops run several times faster than JavaScript
 * ones, and the arithmetic is the cpu kernels': y ± x and s·x are single float32 roundings
 * whether fused or not, because the products involved (±1·x, s·x) are exact or rounded once.
 *
 * @module
 */
import type { OpenBlas } from "./openblas.ts";

/** The binary ops this module can compute. */
export type Level1Op = "add" | "sub" | "mul";

/**
 * `op(a, b)` for an output of `n` elements (in an array from `alloc`), or `undefined` when the
 * operands are not both of size `n` or one of size 1, or the case would need an elementwise
 * product or a scaling by 0 (which OpenBLAS turns into zeros even for NaN and infinite inputs).
 */
export function level1Binary(
  blas: OpenBlas,
  op: Level1Op,
  a: Float32Array,
  b: Float32Array,
  n: number,
  alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
): Float32Array | undefined {
  const copy = (x: Float32Array) => {
    const out = alloc(n);
    out.set(x);
    return out;
  };
  if (n <= 1) return undefined;
  const aFull = a.length === n;
  const bFull = b.length === n;
  if (!(aFull && (bFull || b.length === 1)) && !(bFull && a.length === 1)) return undefined;
  if (op === "mul") {
    if (aFull && bFull) return undefined;
    const [x, s] = aFull ? [a, b[0]] : [b, a[0]];
    if (s === 0 || !Number.isFinite(s)) return undefined;
    const out = copy(x);
    blas.sscal(n, s, out); // s·x
    return out;
  }
  const sign = op === "add" ? 1 : -1;
  if (aFull) {
    const out = copy(a);
    blas.saxpy(n, sign, b, bFull ? 1 : 0, out); // a ± b, or a ± s
    return out;
  }
  const out = copy(b);
  if (op === "sub") blas.sscal(n, -1, out); // s − b = −b + s
  blas.saxpy(n, 1, a, 0, out);
  return out;
}
