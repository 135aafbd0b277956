/**
 * Principal subspace of a data matrix (tfjs has no SVD or eigendecomposition).
 *
 * The covariance of the chosen rows is accumulated in float32 over blocks of centred rows
 * ({@link GramSum}: `cblas_ssyrk` when the started backend has an OpenBLAS, else tfjs). The
 * rest is float64 on d×d and d×k matrices: seeded subspace (block power) iteration, each round
 * a Rayleigh–Ritz step (Jacobi eigendecomposition of the small projected matrix) whose Ritz
 * vectors rotate the block, a power step shifted by half the smallest Ritz value, then a
 * Cholesky QR; products by `dgemm` when there is an OpenBLAS.
 * Rotating the block into the Ritz basis keeps the next projected matrix nearly diagonal, so
 * Jacobi needs a sweep or two.
 *
 * @module
 */
import { backendTraits } from "./backend_traits.ts";
import { GRAM_BLOCK_ROWS, GramSum } from "./gram.ts";
import type { OpenBlas } from "./blas/openblas.ts";
import { Rng } from "./prng.ts";

/** Options of {@link leadingEigenvectors}. */
export interface EigenOptions {
  /** Seed of the random starting block (default 28). */
  seed?: number;
  /** Extra directions iterated beyond `e`, which speeds convergence (default 10). */
  oversample?: number;
  /** Most block power iterations (default 300). */
  maxIterations?: number;
  /** Stop when no leading variance changes by more than this relative amount (default 1e-12). */
  tolerance?: number;
  /**
   * Starting directions as rows (s×d, s ≤ e + oversample, e.g. an earlier fit's `basis`): the
   * first s columns of the starting block, the rest seeded random. Near the answer, fewer
   * iterations.
   */
  start?: Float32Array | Float64Array;
}

/** Options of {@link principalSubspace}. */
export interface PcaOptions extends EigenOptions {
  /** Only these rows of the data (indices, default all n). */
  rows?: Int32Array;
}

/** Leading eigenvectors of a covariance matrix and their eigenvalues. */
export interface Eigenvectors {
  /** e×d, orthonormal rows, by decreasing eigenvalue; each row's largest entry is positive. */
  components: Float32Array;
  /** The eigenvalues (variances), length e. */
  variances: Float64Array;
  /**
   * Every iterated direction (e + oversample orthonormal rows of d, by decreasing Ritz value):
   * the `start` of a refit of a nearby matrix.
   */
  basis: Float64Array;
  /** Block power iterations run. */
  iterations: number;
}

/** Mean, leading principal directions and their variances. */
export interface PrincipalSubspace {
  /** Column means, length d. */
  mean: Float32Array;
  /** e×d, orthonormal rows, by decreasing variance; each row's largest entry is positive. */
  components: Float32Array;
  /** Variance along each component (covariance eigenvalue, divided by n), length e. */
  variances: Float64Array;
  /** Block power iterations run. */
  iterations: number;
}

/** Products of float64 row-major matrices: `dgemm` when there is an OpenBLAS, else loops. */
type Gemm = (
  transA: boolean,
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
) => void;

function gemmOf(blas: OpenBlas | undefined): Gemm {
  if (blas) return (transA, m, n, k, a, b, out) => blas.dgemm(transA, false, m, n, k, a, b, out);
  return (transA, m, n, k, a, b, out) => {
    out.fill(0, 0, m * n);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < k; l++) {
        const ail = transA ? a[l * m + i] : a[i * k + l];
        if (ail === 0) continue;
        for (let j = 0; j < n; j++) out[i * n + j] += ail * b[l * n + j];
      }
    }
  };
}

/**
 * Column means and the covariance (divided by the row count) of the chosen rows of row-major x
 * (·×d), in float64; the sums of products in float32 over blocks of centred rows.
 */
function covariance(x: Float32Array, d: number, rows: Int32Array) {
  const n = rows.length;
  const mean = new Float64Array(d);
  for (const i of rows) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j] += x[row + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  const block = new Float32Array(Math.min(GRAM_BLOCK_ROWS, n) * d);
  const gram = new GramSum(d);
  for (let start = 0; start < n; start += GRAM_BLOCK_ROWS) {
    const count = Math.min(GRAM_BLOCK_ROWS, n - start);
    for (let r = 0; r < count; r++) {
      const from = rows[start + r] * d, to = r * d;
      for (let j = 0; j < d; j++) block[to + j] = x[from + j] - mean[j];
    }
    gram.add(block, count);
  }
  return { mean, cov: gram.symmetric(1 / n) };
}

/** Orthonormalises the k columns of q (d×k, row-major) in place: modified Gram–Schmidt. */
function gramSchmidt(q: Float64Array, d: number, k: number): void {
  for (let a = 0; a < k; a++) {
    for (let pass = 0; pass < 2; pass++) { // re-orthogonalise once for float64 accuracy
      for (let b = 0; b < a; b++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i * k + a] * q[i * k + b];
        for (let i = 0; i < d; i++) q[i * k + a] -= dot * q[i * k + b];
      }
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += q[i * k + a] ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-300) throw new Error(`pca: direction ${a} vanished (data has rank < ${k})`);
    for (let i = 0; i < d; i++) q[i * k + a] /= norm;
  }
}

/**
 * Orthonormalises the k columns of z (d×k) in place by Cholesky QR: G = zᵀz = RᵀR, z ← zR⁻¹.
 * Returns false (z unchanged) when G is not numerically positive definite.
 */
function choleskyQr(gemm: Gemm, z: Float64Array, d: number, k: number): boolean {
  const g = new Float64Array(k * k);
  gemm(true, k, k, d, z, z, g);
  const r = new Float64Array(k * k); // upper triangular, G = RᵀR
  for (let j = 0; j < k; j++) {
    for (let i = 0; i <= j; i++) {
      let s = g[i * k + j];
      for (let l = 0; l < i; l++) s -= r[l * k + i] * r[l * k + j];
      if (i === j) {
        if (!(s > 1e-14 * g[j * k + j])) return false;
        r[j * k + j] = Math.sqrt(s);
      } else r[i * k + j] = s / r[i * k + i];
    }
  }
  const inv = new Float64Array(k * k); // R⁻¹, upper triangular
  for (let j = k - 1; j >= 0; j--) {
    inv[j * k + j] = 1 / r[j * k + j];
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let l = i + 1; l <= j; l++) s += r[i * k + l] * inv[l * k + j];
      inv[i * k + j] = -s / r[i * k + i];
    }
  }
  const out = new Float64Array(d * k);
  gemm(false, d, k, k, z, inv, out);
  z.set(out);
  return true;
}

/** Orthonormal columns of z (d×k) in place: Cholesky QR twice, Gram–Schmidt if that fails. */
function orthonormalise(gemm: Gemm, z: Float64Array, d: number, k: number): void {
  if (!choleskyQr(gemm, z, d, k) || !choleskyQr(gemm, z, d, k)) gramSchmidt(z, d, k);
}

/** Eigen-decomposition of a symmetric k×k matrix by cyclic Jacobi rotations. */
function symmetricEigen(
  h: Float64Array,
  k: number,
): { values: Float64Array<ArrayBuffer>; vectors: Float64Array<ArrayBuffer> } {
  const a = Float64Array.from(h);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  let scale = 0; // ‖h‖², for a tolerance relative to the matrix
  for (let i = 0; i < k * k; i++) scale += h[i] ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) { // A ← A·J
          const arp = a[r * k + p], arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) { // A ← Jᵀ·A
          const apr = a[p * k + r], aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) { // V ← V·J
          const vrp = v[r * k + p], vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = a[i * k + i];
  return { values, vectors: v };
}

/**
 * Q ← (Σ − cI)·Q·V for the block Q (d×k) with Z = ΣQ given (Z is overwritten) and V its Ritz
 * vectors: a block power step shifted by c = θ_min/2, θ_min the smallest Ritz value. The
 * eigenvalues below the block's lie in [0, θ_min], where |λ − c| ≤ θ_min/2, so their directions
 * shrink relative to a wanted eigenvalue λ_e's by (θ_min/2)/(λ_e − θ_min/2) per step instead of
 * θ_min/λ_e (the shift that makes max |λ − c| over [0, θ_min] smallest: a Chebyshev filter of
 * degree 1). On the real images' covariances it cuts the iterations by about a third. Rotating
 * into the Ritz basis keeps the next projected matrix nearly diagonal.
 */
function shiftedPowerStep(
  gemm: Gemm,
  { d, k, q, z, ritz }: {
    d: number;
    k: number;
    q: Float64Array;
    z: Float64Array;
    ritz: { values: Float64Array; vectors: Float64Array };
  },
): void {
  const c = Math.max(0, Math.min(...ritz.values)) / 2;
  for (let i = 0; i < d * k; i++) z[i] -= c * q[i];
  gemm(false, d, k, k, z, ritz.vectors, q);
}

/**
 * The top `e` principal directions of the n×d row-major data `x` (or of the rows `opts.rows`):
 * the mean, the directions as orthonormal rows (e×d) and the variance along each.
 * Deterministic for a given seed and backend.
 */
export function principalSubspace(
  x: Float32Array,
  n: number,
  d: number,
  e: number,
  opts: PcaOptions = {},
): PrincipalSubspace {
  if (x.length !== n * d) throw new Error(`pca: data has ${x.length} values, expected ${n}×${d}`);
  if (!(e >= 1 && e <= d)) throw new Error(`pca: number of components ${e} must be in 1..${d}`);
  const rows = opts.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  if (rows.some((i) => !(i >= 0 && i < n))) {
    throw new Error(`pca: a row index is outside 0..${n - 1}`);
  }
  const { mean, cov } = covariance(x, d, rows);
  return { mean: Float32Array.from(mean), ...leadingEigenvectors(cov, d, e, opts) };
}

/**
 * The `e` leading eigenvectors of the symmetric d×d matrix `cov` (float64, row-major) and their
 * eigenvalues, by seeded subspace iteration. Deterministic for a given seed and backend.
 */
export function leadingEigenvectors(
  cov: Float64Array,
  d: number,
  e: number,
  opts: EigenOptions = {},
): Eigenvectors {
  if (cov.length !== d * d) throw new Error(`pca: matrix has ${cov.length} values, not ${d}×${d}`);
  if (!(e >= 1 && e <= d)) throw new Error(`pca: number of components ${e} must be in 1..${d}`);
  const { seed = 28, oversample = 10, maxIterations = 300, tolerance = 1e-12 } = opts;
  const start = opts.start ?? new Float32Array(0);
  const k = Math.min(d, e + oversample);
  if (start.length % d !== 0 || start.length / d > k) {
    throw new Error(`pca: start has ${start.length} values, not up to ${k} rows of ${d}`);
  }
  const gemm = gemmOf(backendTraits().blas); // float64 products by the BLAS when there is one
  const rng = new Rng(seed);
  const q = new Float64Array(d * k).map(() => rng.float() - 0.5);
  for (let a = 0; a < start.length / d; a++) {
    for (let i = 0; i < d; i++) q[i * k + a] = start[a * d + i];
  }
  orthonormalise(gemm, q, d, k);
  let previous = new Float64Array(e);
  let ritz = { values: new Float64Array(k), vectors: new Float64Array(k * k) };
  const z = new Float64Array(d * k), h = new Float64Array(k * k);
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    gemm(false, d, k, d, cov, q, z); // block power step: Z = Σ Q
    gemm(true, k, k, d, q, z, h); // Rayleigh–Ritz on the current block: H = Qᵀ Σ Q
    ritz = symmetricEigen(h, k);
    const top = Array.from(ritz.values).sort((a, b) => b - a).slice(0, e);
    const change = Math.max(...top.map((v, i) => Math.abs(v - previous[i]) / Math.max(v, 1e-300)));
    previous = Float64Array.from(top);
    if (change < tolerance || iterations === maxIterations) break;
    shiftedPowerStep(gemm, { d, k, q, z, ritz }); // Q ← (Σ − cI)QV, then QR
    orthonormalise(gemm, q, d, k);
  }
  // Directions = Q · (Ritz vectors), by decreasing Ritz value.
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) =>
    ritz.values[b] - ritz.values[a]
  );
  const directions = new Float64Array(d * k);
  gemm(false, d, k, k, q, ritz.vectors, directions);
  const basis = new Float64Array(k * d);
  order.forEach((col, r) => {
    for (let i = 0; i < d; i++) basis[r * d + i] = directions[i * k + col];
  });
  const components = new Float32Array(e * d);
  const variances = new Float64Array(e);
  for (let r = 0; r < e; r++) {
    const col = order[r];
    variances[r] = ritz.values[col];
    let big = 0;
    for (let i = 0; i < d; i++) {
      if (Math.abs(directions[i * k + col]) > Math.abs(directions[big * k + col])) big = i;
    }
    const sign = directions[big * k + col] < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) components[r * d + i] = sign * directions[i * k + col];
  }
  return { components, variances, basis, iterations };
}
