/**
 * Closed-form baselines, computed without training: reconstruct each test image from its
 * projection onto an affine subspace `mean + span(components)` fitted on the training set.
 * With no components this is the mean-image baseline; with the top E principal directions it
 * is PCA, the optimum an LGAE with E latent dimensions can approach.
 *
 * @module
 */

/**
 * Per-image mean squared error (over the `d` pixels) of reconstructing each of the `n` rows of
 * `x` as `mean + Cᵀ C (x − mean)`, where `components` holds `e` orthonormal rows of length `d`.
 * Accumulates in float64.
 */
export function projectionErrors(
  x: Float32Array,
  n: number,
  d: number,
  mean: Float32Array,
  components: Float32Array,
  e: number,
): Float64Array {
  if (x.length !== n * d) {
    throw new Error(`projectionErrors: x has ${x.length} values, not ${n}×${d}`);
  }
  if (mean.length !== d) {
    throw new Error(`projectionErrors: mean has ${mean.length} values, not ${d}`);
  }
  if (components.length !== e * d) {
    throw new Error(`projectionErrors: components have ${components.length} values, not ${e}×${d}`);
  }
  const errors = new Float64Array(n);
  const centred = new Float64Array(d);
  const code = new Float64Array(e);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < d; p++) centred[p] = x[i * d + p] - mean[p];
    for (let j = 0; j < e; j++) { // code = C (x − mean)
      let dot = 0;
      for (let p = 0; p < d; p++) dot += components[j * d + p] * centred[p];
      code[j] = dot;
    }
    let sum = 0;
    for (let p = 0; p < d; p++) { // residual = (x − mean) − Cᵀ code
      let r = centred[p];
      for (let j = 0; j < e; j++) r -= components[j * d + p] * code[j];
      sum += r * r;
    }
    errors[i] = sum / d;
  }
  return errors;
}

/** The column mean of the `n` rows of `x` (length `d`), accumulated in float64. */
export function meanImage(x: Float32Array, n: number, d: number): Float32Array {
  const sum = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) sum[p] += x[i * d + p];
  return Float32Array.from(sum, (s) => s / n);
}
