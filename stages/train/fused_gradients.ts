/**
 * The loss and gradients of LGAE/LLGAE's fast formulation (stages/train/model.ts) computed
 * directly on float32 arrays by OpenBLAS: one batch-sized product forward, per-component
 * products on the images each component was chosen for backward, and the E×E chain of the
 * folded encoder steps (S, Q and their gradients) in float64. The tfjs formulation in model.ts is
 * the reference this is tested against.
 *
 * Forward, for a batch x [B,D] (c = 1/(B·D)):
 *   Y = x·[W_1 … W_K | μᵀ]                       [B, K·E + K], the only batch-sized product
 *   P_k = W_kᵀ(x − μ_k) = (Y)_k − μ_kᵀW_k,       S_k = Σ_{t<T} A_k^t, A_k = (1 − βλ)I − βC_k,
 *   Q_k = 2βS_k − β²S_k C_k S_k,                  C_k = W_kᵀW_k,
 *   err_k = ‖x‖² − 2xᵀμ_k + ‖μ_k‖² − P_kᵀQ_kP_k, k* = argmin_k err_k, loss = c·Σ err_k*.
 * Backward, per component k over the rows X_k that chose it (G = −2c·Q_kP_k as rows):
 *   ∂loss/∂W_k = X_kᵀG − μ_k(ΣG)ᵀ + W_k(dC + dCᵀ), dC from dQ_k = −c·P_kᵀP_k back through Q, S;
 *   ∂loss/∂μ_k = −2c·Σ(x − μ_k) − W_kΣG.
 *
 * @module
 */
import type { OpenBlas } from "../lib/blas/openblas.ts";
import type { Encoder, ModelDims } from "./model.ts";

/** Scratch and result arrays for batches of up to `maxRows` images, allocated once. */
export class FusedGradients {
  /** ∂loss/∂μ [K,D] of the last {@link compute}. */
  readonly dMu: Float32Array;
  /** ∂loss/∂W [K,D,E] of the last {@link compute}. */
  readonly dW: Float32Array;
  /** The chosen component of each row of the last batch. */
  readonly choice: Int32Array;

  /** The encoder settings the chain of E×E matrices is built for. */
  readonly encoder: Encoder;
  /** The most rows a batch may have. */
  readonly maxRows: number;

  readonly #blas: OpenBlas;
  readonly #dims: ModelDims;
  // float32, batch-sized
  readonly #packed: Float32Array; // [D, K·E + K] = [W_1 … W_K | μᵀ]
  readonly #y: Float32Array; // x·packed
  readonly #p: Float32Array; // P [B, K·E]
  readonly #pq: Float32Array; // P_k Q_k [B, K·E]
  readonly #xs: Float32Array; // rows of x grouped by chosen component
  readonly #gs: Float32Array; // G rows, same order
  readonly #ps: Float32Array; // P_k* rows, same order
  readonly #slot: Int32Array; // grouped position of each row
  readonly #start: Int32Array; // first grouped row of each component, K + 1
  readonly #fill: Int32Array; // next free grouped row of each component
  // float32, per component
  readonly #muW: Float32Array; // μ_kᵀW_k [K,E]
  readonly #e32: Float32Array; // an E×E matrix in float32 (C_k, Q_k, dQ_k, dC_k + dC_kᵀ)
  readonly #q32: Float32Array; // Q [K,E,E]
  readonly #gsum: Float32Array; // ΣG [E]
  readonly #wg: Float32Array; // W_kΣG [D]
  // float64
  readonly #sx: Float64Array; // Σ x over a component's rows [D]
  readonly #c: Float64Array; // C [K,E,E]
  readonly #s: Float64Array; // S_t for t < T, per component [K,T,E,E]
  readonly #a: Float64Array; // A_k [E,E]
  readonly #m: Float64Array; // C S [E,E]
  readonly #work: Float64Array[]; // dQ, dS, dM, dA, dC (E×E each)
  readonly #muMu: Float64Array; // ‖μ_k‖² [K]
  readonly #best: Float64Array; // each row's chosen error

  constructor(blas: OpenBlas, dims: ModelDims, encoder: Encoder, maxRows: number) {
    const { K, D, E } = dims;
    const N = K * E, T = encoder.steps;
    this.#blas = blas;
    this.#dims = dims;
    this.maxRows = maxRows;
    this.dMu = new Float32Array(K * D);
    this.dW = new Float32Array(K * D * E);
    this.choice = new Int32Array(maxRows);
    this.#packed = new Float32Array(D * (N + K));
    this.#y = new Float32Array(maxRows * (N + K));
    this.#p = new Float32Array(maxRows * N);
    this.#pq = new Float32Array(maxRows * N);
    this.#xs = new Float32Array(maxRows * D);
    this.#gs = new Float32Array(maxRows * E);
    this.#ps = new Float32Array(maxRows * E);
    this.#slot = new Int32Array(maxRows);
    this.#start = new Int32Array(K + 1);
    this.#fill = new Int32Array(K);
    this.#muW = new Float32Array(N);
    this.#e32 = new Float32Array(E * E);
    this.#q32 = new Float32Array(K * E * E);
    this.#gsum = new Float32Array(E);
    this.#wg = new Float32Array(D);
    this.#sx = new Float64Array(D);
    this.#c = new Float64Array(K * E * E);
    this.#s = new Float64Array(K * T * E * E);
    this.#a = new Float64Array(E * E);
    this.#m = new Float64Array(E * E);
    this.#work = Array.from({ length: 5 }, () => new Float64Array(E * E));
    this.#muMu = new Float64Array(K);
    this.#best = new Float64Array(maxRows);
    this.encoder = encoder;
  }

  /**
   * The loss of `rows` images x (row-major rows×D) under μ [K,D] and W [K,D,E]; fills
   * {@link dMu}, {@link dW} and {@link choice}.
   */
  compute(x: Float32Array, rows: number, mu: Float32Array, W: Float32Array): number {
    const loss = this.#forward(x, rows, mu, W);
    this.#group(x, rows);
    for (let k = 0; k < this.#dims.K; k++) this.#backward(k, rows, mu, W);
    return loss;
  }

  /**
   * The forward pass only: fills {@link choice} and, per row, the chosen component's squared
   * error ‖x − x̂‖² divided by D (the row's mean squared error) into `sqErr`.
   */
  errors(x: Float32Array, rows: number, mu: Float32Array, W: Float32Array, sqErr: Float32Array) {
    this.#forward(x, rows, mu, W);
    const D = this.#dims.D;
    for (let b = 0; b < rows; b++) sqErr[b] = this.#best[b] / D;
  }

  /** Y, the E×E chain, P, P Q, each row's errors and choice; returns the loss. */
  #forward(x: Float32Array, rows: number, mu: Float32Array, W: Float32Array): number {
    const { K, D, E } = this.#dims;
    if (rows < 1 || rows > this.maxRows || x.length < rows * D) {
      throw new Error(`fused LLGAE step: ${rows} rows of ${D} pixels, at most ${this.maxRows}`);
    }
    const N = K * E, NC = N + K;
    const blas = this.#blas;
    const packed = this.#packed, y = this.#y, p = this.#p, pq = this.#pq;
    for (let j = 0; j < D; j++) {
      const row = j * NC;
      for (let k = 0; k < K; k++) {
        const from = (k * D + j) * E, to = row + k * E;
        for (let e = 0; e < E; e++) packed[to + e] = W[from + e];
        packed[row + N + k] = mu[k * D + j];
      }
    }
    blas.sgemm(false, false, rows, NC, D, x, packed, y);
    for (let k = 0; k < K; k++) {
      const muK = mu.subarray(k * D, (k + 1) * D), wK = W.subarray(k * D * E, (k + 1) * D * E);
      blas.sgemm(false, false, 1, E, D, muK, wK, this.#muW.subarray(k * E, (k + 1) * E));
      blas.sgemm(true, false, E, E, D, wK, wK, this.#e32);
      this.#forwardChain(k);
    }
    const muW = this.#muW;
    for (let b = 0; b < rows; b++) { // P_k = W_kᵀx − μ_kᵀW_k
      const from = b * NC, to = b * N;
      for (let i = 0; i < N; i++) p[to + i] = y[from + i] - muW[i];
    }
    for (let k = 0; k < K; k++) { // P_k Q_k, each a column block of [B, K·E]
      blas.sgemmStrided({
        transA: false,
        transB: false,
        m: rows,
        n: E,
        k: E,
        alpha: 1,
        a: p.subarray(k * E),
        lda: N,
        b: this.#q32.subarray(k * E * E),
        ldb: E,
        beta: 0,
        c: pq.subarray(k * E),
        ldc: N,
      });
    }
    return this.#choose(x, rows, mu);
  }

  /** Each row's error for every component, its choice (first minimum) and the loss. */
  #choose(x: Float32Array, rows: number, mu: Float32Array): number {
    const { K, D, E } = this.#dims;
    const N = K * E, NC = N + K;
    const y = this.#y, p = this.#p, pq = this.#pq, choice = this.choice;
    const muMu = this.#muMu;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += mu[k * D + j] * mu[k * D + j];
      muMu[k] = s;
    }
    let total = 0;
    for (let b = 0; b < rows; b++) {
      let xx = 0;
      for (let j = b * D; j < (b + 1) * D; j++) xx += x[j] * x[j];
      let best = Infinity, chosen = 0;
      for (let k = 0; k < K; k++) {
        let pQp = 0;
        for (let i = b * N + k * E; i < b * N + (k + 1) * E; i++) pQp += p[i] * pq[i];
        const err = xx - 2 * y[b * NC + N + k] + muMu[k] - pQp;
        if (err < best) {
          best = err;
          chosen = k;
        }
      }
      choice[b] = chosen;
      this.#best[b] = best;
      total += best;
    }
    return total / (rows * D);
  }

  /** Rows of x, G = −2c·Q_k*P_k* and P_k* grouped by chosen component (a counting sort). */
  #group(x: Float32Array, rows: number): void {
    const { K, D, E } = this.#dims;
    const N = K * E;
    const start = this.#start, slot = this.#slot, fill = this.#fill, choice = this.choice;
    start.fill(0);
    for (let b = 0; b < rows; b++) start[choice[b] + 1]++;
    for (let k = 0; k < K; k++) start[k + 1] += start[k];
    fill.set(start.subarray(0, K));
    for (let b = 0; b < rows; b++) slot[b] = fill[choice[b]]++;
    const g = -2 / (rows * D);
    for (let b = 0; b < rows; b++) {
      const r = slot[b], from = b * N + choice[b] * E;
      this.#xs.set(x.subarray(b * D, (b + 1) * D), r * D);
      for (let e = 0; e < E; e++) {
        this.#gs[r * E + e] = g * this.#pq[from + e];
        this.#ps[r * E + e] = this.#p[from + e];
      }
    }
  }

  /** ∂loss/∂μ_k and ∂loss/∂W_k from the rows that chose component k. */
  #backward(k: number, rows: number, mu: Float32Array, W: Float32Array): void {
    const { D, E } = this.#dims;
    const blas = this.#blas, c = 1 / (rows * D);
    const r0 = this.#start[k], n = this.#start[k + 1] - r0;
    const xs = this.#xs.subarray(r0 * D, (r0 + n) * D);
    const gs = this.#gs.subarray(r0 * E, (r0 + n) * E);
    const ps = this.#ps.subarray(r0 * E, (r0 + n) * E);
    const muK = mu.subarray(k * D, (k + 1) * D), wK = W.subarray(k * D * E, (k + 1) * D * E);
    const dW = this.dW.subarray(k * D * E, (k + 1) * D * E);
    const dMu = this.dMu.subarray(k * D, (k + 1) * D);
    const gsum = this.#gsum, sx = this.#sx, e32 = this.#e32;
    blas.sgemm(true, false, D, E, n, xs, gs, dW); // X_kᵀG
    gsum.fill(0);
    for (let r = 0; r < n; r++) for (let e = 0; e < E; e++) gsum[e] += gs[r * E + e];
    sx.fill(0);
    for (let r = 0; r < n; r++) for (let j = 0; j < D; j++) sx[j] += xs[r * D + j];
    for (let j = 0; j < D; j++) {
      for (let e = 0; e < E; e++) dW[j * E + e] -= muK[j] * gsum[e]; // − μ_k(ΣG)ᵀ
    }
    blas.sgemm(true, false, E, E, n, ps, ps, e32); // P_kᵀP_k
    const dC = this.#backwardChain(k, -c);
    for (let i = 0; i < E; i++) {
      for (let j = 0; j < E; j++) e32[i * E + j] = dC[i * E + j] + dC[j * E + i];
    }
    blas.sgemmStrided({ // + W_k(dC + dCᵀ)
      transA: false,
      transB: false,
      m: D,
      n: E,
      k: E,
      alpha: 1,
      a: wK,
      lda: E,
      b: e32,
      ldb: E,
      beta: 1,
      c: dW,
      ldc: E,
    });
    blas.sgemm(false, false, D, 1, E, wK, gsum, this.#wg);
    for (let j = 0; j < D; j++) dMu[j] = -2 * c * (sx[j] - n * muK[j]) - this.#wg[j];
  }

  /**
   * dC_k from dQ_k = `scale`·(#e32) back through Q = 2βS − β²S·M (M = C S) and the Horner steps
   * S_t = I + A S_{t−1} (A = (1 − βλ)I − βC); returns a view of the float64 result.
   */
  #backwardChain(k: number, scale: number): Float64Array {
    const { E } = this.#dims;
    const { steps: T, beta, latentDecay } = this.encoder;
    const EE = E * E, blas = this.#blas;
    const C = this.#c.subarray(k * EE, (k + 1) * EE);
    const S = (t: number) => this.#s.subarray((k * T + t) * EE, (k * T + t + 1) * EE);
    const last = S(T - 1), A = this.#a, M = this.#m;
    const [dQ, dS, dM, dA, dC] = this.#work;
    for (let i = 0; i < EE; i++) dQ[i] = scale * this.#e32[i];
    for (let i = 0; i < EE; i++) A[i] = -beta * C[i];
    for (let i = 0; i < E; i++) A[i * E + i] += 1 - beta * latentDecay;
    blas.dgemm(false, false, E, E, E, C, last, M);
    const g = (
      transA: boolean,
      transB: boolean,
      alpha: number,
      a: Float64Array,
      b: Float64Array,
      accumulate: number,
      c: Float64Array,
    ) =>
      blas.dgemmStrided({
        transA,
        transB,
        m: E,
        n: E,
        k: E,
        alpha,
        a,
        lda: E,
        b,
        ldb: E,
        beta: accumulate,
        c,
        ldc: E,
      });
    for (let i = 0; i < EE; i++) dS[i] = 2 * beta * dQ[i];
    g(false, true, -beta * beta, dQ, M, 1, dS); // dS += dY Mᵀ, dY = −β² dQ
    g(true, false, -beta * beta, last, dQ, 0, dM); // dM = Sᵀ dY
    g(false, true, 1, dM, last, 0, dC); // dC = dM Sᵀ
    g(true, false, 1, C, dM, 1, dS); // dS += Cᵀ dM
    dA.fill(0);
    for (let t = T - 1; t >= 1; t--) {
      g(false, true, 1, dS, S(t - 1), 1, dA); // dA += dS_t S_{t−1}ᵀ
      g(true, false, 1, A, dS, 0, M); // dS_{t−1} = Aᵀ dS_t (M as scratch)
      dS.set(M);
    }
    for (let i = 0; i < EE; i++) dC[i] -= beta * dA[i];
    return dC;
  }

  /** C_k (in #e32) → C, A, S_t (t < T) and Q_k (float32 into #q32) for component k. */
  #forwardChain(k: number): void {
    const { E } = this.#dims;
    const { steps: T, beta, latentDecay } = this.encoder;
    const EE = E * E;
    const C = this.#c.subarray(k * EE, (k + 1) * EE);
    for (let i = 0; i < EE; i++) C[i] = this.#e32[i];
    const A = this.#a;
    for (let i = 0; i < EE; i++) A[i] = -beta * C[i];
    for (let i = 0; i < E; i++) A[i * E + i] += 1 - beta * latentDecay;
    const S = (t: number) => this.#s.subarray((k * T + t) * EE, (k * T + t + 1) * EE);
    const S0 = S(0);
    S0.fill(0);
    for (let i = 0; i < E; i++) S0[i * E + i] = 1;
    for (let t = 1; t < T; t++) { // S_t = I + A S_{t−1}
      const St = S(t);
      this.#blas.dgemm(false, false, E, E, E, A, S(t - 1), St);
      for (let i = 0; i < E; i++) St[i * E + i] += 1;
    }
    const last = S(T - 1), M = this.#m, SCS = this.#work[0];
    this.#blas.dgemm(false, false, E, E, E, C, last, M); // M = C S
    this.#blas.dgemm(false, false, E, E, E, last, M, SCS);
    const q = this.#q32.subarray(k * EE, (k + 1) * EE);
    for (let i = 0; i < EE; i++) q[i] = 2 * beta * last[i] - beta * beta * SCS[i];
  }
}

/** Images per batch when {@link fusedErrors} scores a set. */
export const SCORE_ROWS = 1000;

/**
 * Each of `n` images' (row-major n×D) chosen component and mean squared error under μ and W,
 * by the forward pass of {@link FusedGradients} in batches (`work` is reused when given).
 */
export function fusedErrors(
  { blas, dims, encoder, images, n, mu, W, work }: {
    blas: OpenBlas;
    dims: ModelDims;
    encoder: Encoder;
    images: Float32Array;
    n: number;
    mu: Float32Array;
    W: Float32Array;
    work?: FusedGradients;
  },
): { choice: Int32Array; sqErr: Float32Array } {
  const D = dims.D;
  if (images.length !== n * D) {
    throw new Error(`score: ${images.length} values are not ${n} images of ${D} pixels`);
  }
  const scorer = work ??
    new FusedGradients(blas, dims, encoder, Math.max(1, Math.min(SCORE_ROWS, n)));
  const choice = new Int32Array(n), sqErr = new Float32Array(n);
  for (let start = 0; start < n; start += scorer.maxRows) {
    const rows = Math.min(scorer.maxRows, n - start);
    const x = images.subarray(start * D, (start + rows) * D);
    scorer.errors(x, rows, mu, W, sqErr.subarray(start));
    choice.set(scorer.choice.subarray(0, rows), start);
  }
  return { choice, sqErr };
}
