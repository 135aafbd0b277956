/**
 * Principal subspace of a data matrix (tfjs has no SVD or eigendecomposition).
 *
 * The covariance is one tfjs matrix product on the active backend; the rest is float64 in
 * JavaScript on a d×d matrix: seeded subspace (block power) iteration with a QR step each
 * round, then a Rayleigh–Ritz step (Jacobi eigendecomposition of the small projected matrix)
 * to get the individual directions and their variances.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { blasOf, isBlasBackend } from "./blas/backend.ts";
import type { OpenBlas } from "./blas/openblas.ts";
import { Rng } from "./prng.ts";

/** Options of {@link principalSubspace}. */
export interface PcaOptions {
  /** Seed of the random starting block (default 28). */
  seed?: number;
  /** Extra directions iterated beyond `e`, which speeds convergence (default 10). */
  oversample?: number;
  /** Most block power iterations (default 300). */
  maxIterations?: number;
  /** Stop when no leading variance changes by more than this relative amount (default 1e-12). */
  tolerance?: number;
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

/** Rows per block of the covariance product. */
const BLOCK_ROWS = 4096;

/** Column means and the covariance (divided by n) of row-major x (n×d), in float64. */
function covariance(x: Float32Array, n: number, d: number) {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j] += x[row + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Σ = X̃ᵀX̃ / n, summed over blocks of rows so the backend never holds the whole data. The
  // explicit transpose except on blas: tfjs-wasm's transposed matMul is ~10× slower.
  const meanTensor = tf.tensor1d(Float32Array.from(mean));
  let cov: tf.Tensor = tf.zeros([d, d]);
  for (let start = 0; start < n; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, n - start);
    const next = tf.tidy(() => {
      const xc = tf.sub(
        tf.tensor2d(x.subarray(start * d, (start + rows) * d), [rows, d]),
        meanTensor,
      );
      const gram = isBlasBackend(tf.getBackend())
        ? tf.matMul(xc, xc, true, false)
        : tf.matMul(tf.transpose(xc), xc);
      return tf.add(cov, gram);
    });
    cov.dispose();
    cov = next;
  }
  meanTensor.dispose();
  const c = Float64Array.from(cov.dataSync(), (v) => v / n);
  cov.dispose();
  for (let i = 0; i < d; i++) { // symmetrise float32 rounding
    for (let j = i + 1; j < d; j++) c[i * d + j] = c[j * d + i] = (c[i * d + j] + c[j * d + i]) / 2;
  }
  return { mean, cov: c };
}

/** Orthonormalises the k columns of q (d×k, row-major) in place: modified Gram–Schmidt. */
function orthonormalise(q: Float64Array, d: number, k: number): void {
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

/** out (d×k) = c (d×d) · q (d×k), by `blas` in float64 when given. */
function multiply(
  blas: OpenBlas | undefined,
  c: Float64Array,
  q: Float64Array,
  d: number,
  k: number,
): Float64Array<ArrayBuffer> {
  const out = new Float64Array(d * k);
  if (blas) {
    blas.dgemm(false, false, d, k, d, c, q, out);
    return out;
  }
  for (let i = 0; i < d; i++) {
    const o = i * k;
    for (let l = 0; l < d; l++) {
      const cil = c[i * d + l];
      if (cil === 0) continue;
      const ql = l * k;
      for (let a = 0; a < k; a++) out[o + a] += cil * q[ql + a];
    }
  }
  return out;
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
 * The top `e` principal directions of the n×d row-major data `x`: the mean, the directions
 * as orthonormal rows (e×d) and the variance along each. Deterministic for a given seed and
 * backend.
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
  const { seed = 28, oversample = 10, maxIterations = 300, tolerance = 1e-12 } = opts;
  const k = Math.min(d, e + oversample);
  const blas = blasOf(tf.getBackend()); // float64 products by the BLAS when the backend has one
  const { mean, cov } = covariance(x, n, d);
  const rng = new Rng(seed);
  let q = new Float64Array(d * k).map(() => rng.float() - 0.5);
  orthonormalise(q, d, k);
  let previous = new Float64Array(e);
  let ritz = { values: new Float64Array(k), vectors: new Float64Array(k * k) };
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    const cq = multiply(blas, cov, q, d, k); // block power step: Q ← Σ Q, then QR
    // Rayleigh–Ritz on the current block: H = Qᵀ Σ Q, eigendecomposed.
    const h = new Float64Array(k * k);
    if (blas) blas.dgemm(true, false, k, k, d, q, cq, h);
    else {
      for (let i = 0; i < d; i++) {
        for (let a = 0; a < k; a++) {
          const qa = q[i * k + a];
          for (let b = 0; b < k; b++) h[a * k + b] += qa * cq[i * k + b];
        }
      }
    }
    ritz = symmetricEigen(h, k);
    const top = Array.from(ritz.values).sort((a, b) => b - a).slice(0, e);
    const change = Math.max(...top.map((v, i) => Math.abs(v - previous[i]) / Math.max(v, 1e-300)));
    previous = Float64Array.from(top);
    if (change < tolerance || iterations === maxIterations) break;
    q = cq;
    orthonormalise(q, d, k);
  }
  // Directions = Q · (Ritz vectors), by decreasing Ritz value.
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) =>
    ritz.values[b] - ritz.values[a]
  );
  const components = new Float32Array(e * d);
  const variances = new Float64Array(e);
  for (let r = 0; r < e; r++) {
    const col = order[r];
    variances[r] = ritz.values[col];
    const dir = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += q[i * k + a] * ritz.vectors[a * k + col];
      dir[i] = s;
    }
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(dir[i]) > Math.abs(dir[big])) big = i;
    const sign = dir[big] < 0 ? -1 : 1;
    for (let i = 0; i < d; i++) components[r * d + i] = sign * dir[i];
  }
  return { mean: Float32Array.from(mean), components, variances, iterations };
}
