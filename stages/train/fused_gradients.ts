/**
 * The loss and gradients of LGAE/LLGAE's fast formulation (stages/train/model.ts) computed
 * directly on float32 arrays by OpenBLAS: one batch-sized product forward, per-component
 * products on the images each component was chosen for backward, and the E×E chain of the
 * folded encoder steps (S, Q and their gradients) in float64. The tfjs formulation in model.ts is
 * the reference this is tested against.
 *
 * The parameters (and their gradients, and RMSprop's running means) live in one packed layout,
 * [D, K·(E + 1)]: component k's block B_k = [W_k | μ_k] (D × (E + 1)), blocks side by side
 * ({@link packParams}). Every product reads and writes its blocks through leading dimensions.
 *
 * Forward, for a batch x [B,D] (c = 1/(B·D)):
 *   B_kᵀB_k = [[C_k, W_kᵀμ_k], [μ_kᵀW_k, ‖μ_k‖²]],  C_k = W_kᵀW_k,
 *   Y = x·[B_1 … B_K] − 1·[μ_1ᵀW_1 | 0 | … | μ_KᵀW_K | 0]     [B, K·(E+1)], the only batch-sized
 *     product, accumulated onto the shift, so that block k of Y is [P_k | xᵀμ_k] with
 *   P_k = W_kᵀ(x − μ_k),                          S_k = Σ_{t<T} A_k^t, A_k = (1 − βλ)I − βC_k,
 *   Q_k = 2βS_k − β²S_k C_k S_k,
 *   err_k = ‖x‖² − 2xᵀμ_k + ‖μ_k‖² − P_kᵀQ_kP_k, k* = argmin_k err_k, loss = c·Σ err_k*.
 * Backward, per component k over the rows X_k that chose it (G = −2c·Q_kP_k as rows):
 *   ∂loss/∂W_k = X_kᵀG − μ_k(ΣG)ᵀ + W_k(dC + dCᵀ), dC from dQ_k = −c·P_kᵀP_k back through Q, S;
 *   ∂loss/∂μ_k = −2c·Σ(x − μ_k) − W_kΣG.
 * Both as two products into the block ∂B_k: with X̃_k = [X_k; −μ_kᵀ] (each group of rows carries
 * one extra row),
 *   ∂B_k = X̃_kᵀ [[G, −2c·1], [(ΣG)ᵀ, −2c·n_k]] + W_k [dC + dCᵀ | −ΣG].
 *
 * @module
 */
import type { OpenBlas, StridedGemm } from "../lib/blas/openblas.ts";
import type { Encoder, ModelDims } from "./model.ts";

/** The packed layout's size: D rows of K·(E + 1) columns. */
export function packedLength({ K, D, E }: ModelDims): number {
  return D * K * (E + 1);
}

/** μ [K,D] and W [K,D,E] into the packed layout [D, K·(E + 1)], blocks [W_k | μ_k]. */
export function packParams(
  dims: ModelDims,
  mu: Float32Array,
  W: Float32Array,
  out: Float32Array = new Float32Array(packedLength(dims)),
): Float32Array {
  const { K, D, E } = dims;
  const F = E + 1, NC = K * F;
  for (let j = 0; j < D; j++) {
    for (let k = 0; k < K; k++) {
      const to = j * NC + k * F;
      out.set(W.subarray((k * D + j) * E, (k * D + j + 1) * E), to);
      out[to + E] = mu[k * D + j];
    }
  }
  return out;
}

/** The packed layout back into μ [K,D] and W [K,D,E] (new arrays). */
export function unpackParams(
  dims: ModelDims,
  packed: Float32Array,
): { mu: Float32Array; W: Float32Array } {
  const { K, D, E } = dims;
  const F = E + 1, NC = K * F;
  const mu = new Float32Array(K * D), W = new Float32Array(K * D * E);
  for (let j = 0; j < D; j++) {
    for (let k = 0; k < K; k++) {
      const from = j * NC + k * F;
      W.set(packed.subarray(from, from + E), (k * D + j) * E);
      mu[k * D + j] = packed[from + E];
    }
  }
  return { mu, W };
}

/** What {@link FusedGradients} needs. */
export interface FusedGradientsOptions {
  blas: OpenBlas;
  dims: ModelDims;
  encoder: Encoder;
  /** The most rows a batch may have. */
  maxRows: number;
  /** Where to write the gradient ({@link packedLength} floats; default: an array of its own). */
  gradient?: Float32Array;
}

/** How the forward pass gets each row's ‖x‖²: computed, given, or left out (choice only). */
type Norms = "compute" | "skip" | Float64Array;

/** Scratch and result arrays for batches of up to `maxRows` images, allocated once. */
export class FusedGradients {
  /** ∂loss/∂(μ, W) of the last {@link compute}, packed like the parameters. */
  readonly gradient: Float32Array;
  /** The chosen component of each row of the last batch. */
  readonly choice: Int32Array;

  /** The encoder settings the chain of E×E matrices is built for. */
  readonly encoder: Encoder;
  /** The most rows a batch may have. */
  readonly maxRows: number;

  readonly #blas: OpenBlas;
  readonly #dims: ModelDims;
  // float32, batch-sized
  readonly #y: Float32Array; // [P_k | xᵀμ_k] blocks [B, K·(E+1)]
  readonly #pq: Float32Array; // P_k Q_k [B, K·E]
  readonly #xs: Float32Array; // rows of x grouped by chosen component, then −μ_kᵀ per group
  readonly #gs: Float32Array; // [G, −2c] rows, same order, then [(ΣG)ᵀ, −2c·n_k] per group
  readonly #ps: Float32Array; // P_k* rows, same order
  readonly #slot: Int32Array; // grouped position of each row
  readonly #start: Int32Array; // first row of each group (extra rows not counted), K + 1
  readonly #fill: Int32Array; // next free grouped row of each component
  // float32, per component
  readonly #gram: Float32Array; // B_kᵀB_k [E+1, E+1]
  readonly #muW: Float32Array; // μ_kᵀW_k [K,E]
  readonly #muMu: Float32Array; // ‖μ_k‖² [K]
  readonly #shift: Float32Array; // [−μ_kᵀW_k | 0] blocks [K·(E+1)], every row of Y starts from
  readonly #e32: Float32Array; // an E×E matrix in float32 (Q_k, dQ_k)
  readonly #r32: Float32Array; // [dC_k + dC_kᵀ | −ΣG] [E, E+1]
  readonly #q32: Float32Array; // Q [K,E,E]
  // float64
  readonly #c: Float64Array; // C [K,E,E]
  readonly #s: Float64Array; // S_t for t < T, per component [K,T,E,E]
  readonly #a: Float64Array; // A_k [E,E]
  readonly #m: Float64Array; // C S [E,E]
  readonly #work: Float64Array[]; // dQ, dS, dM, dA, dC (E×E each)
  readonly #best: Float64Array; // each row's chosen error

  constructor({ blas, dims, encoder, maxRows, gradient }: FusedGradientsOptions) {
    const { K, D, E } = dims;
    const N = K * E, F = E + 1, T = encoder.steps;
    this.#blas = blas;
    this.#dims = dims;
    this.maxRows = maxRows;
    if (gradient && gradient.length !== packedLength(dims)) {
      throw new RangeError(
        `FusedGradients: a gradient of ${gradient.length} floats for ${packedLength(dims)}`,
      );
    }
    this.gradient = gradient ?? new Float32Array(packedLength(dims));
    this.choice = new Int32Array(maxRows);
    this.#y = new Float32Array(maxRows * K * F);
    this.#pq = new Float32Array(maxRows * N);
    this.#xs = new Float32Array((maxRows + K) * D);
    this.#gs = new Float32Array((maxRows + K) * F);
    this.#ps = new Float32Array((maxRows + K) * E);
    this.#slot = new Int32Array(maxRows);
    this.#start = new Int32Array(K + 1);
    this.#fill = new Int32Array(K);
    this.#gram = new Float32Array(F * F);
    this.#muW = new Float32Array(N);
    this.#muMu = new Float32Array(K);
    this.#shift = new Float32Array(K * F);
    this.#e32 = new Float32Array(E * E);
    this.#r32 = new Float32Array(E * F);
    this.#q32 = new Float32Array(K * E * E);
    this.#c = new Float64Array(K * E * E);
    this.#s = new Float64Array(K * T * E * E);
    this.#a = new Float64Array(E * E);
    this.#m = new Float64Array(E * E);
    this.#work = Array.from({ length: 5 }, () => new Float64Array(E * E));
    this.#best = new Float64Array(maxRows);
    this.encoder = encoder;
  }

  /**
   * The loss of `rows` images x (row-major rows×D) under the packed parameters `params`; fills
   * {@link gradient} and {@link choice}. `norms`, when given, holds the rows' ‖x‖²
   * ({@link imageNorms}: the same values, so the same loss), which are otherwise computed.
   */
  compute(x: Float32Array, rows: number, params: Float32Array, norms?: Float64Array): number {
    const loss = this.#forward(x, rows, params, norms ?? "compute");
    this.#group(x, rows, params);
    for (let k = 0; k < this.#dims.K; k++) this.#backward(k, rows, params);
    return loss;
  }

  /**
   * The forward pass only: fills {@link choice} and, per row, the chosen component's squared
   * error ‖x − x̂‖² divided by D (the row's mean squared error) into `sqErr`. `norms`, when given,
   * holds the rows' ‖x‖² ({@link imageNorms}), so that scoring one set repeatedly skips them.
   */
  errors(
    x: Float32Array,
    rows: number,
    params: Float32Array,
    sqErr: Float32Array,
    norms?: Float64Array,
  ) {
    this.#forward(x, rows, params, norms ?? "compute");
    const D = this.#dims.D;
    for (let b = 0; b < rows; b++) sqErr[b] = this.#best[b] / D;
  }

  /** The forward pass only, for {@link choice} alone (the rows' ‖x‖² is left out). */
  choices(x: Float32Array, rows: number, params: Float32Array) {
    this.#forward(x, rows, params, "skip");
  }

  /** The E×E chain, Y (so P), P Q, each row's errors and choice; returns the loss. */
  #forward(x: Float32Array, rows: number, params: Float32Array, norms: Norms = "compute"): number {
    const { K, D, E } = this.#dims;
    if (rows < 1 || rows > this.maxRows || x.length < rows * D) {
      throw new Error(`fused LLGAE step: ${rows} rows of ${D} pixels, at most ${this.maxRows}`);
    }
    const N = K * E, F = E + 1, NC = K * F;
    const blas = this.#blas, y = this.#y, pq = this.#pq, shift = this.#shift;
    const gram = this.#gram, muW = this.#muW;
    for (let k = 0; k < K; k++) {
      const block = params.subarray(k * F);
      blas.sgemmStrided({ // B_kᵀB_k
        transA: true,
        transB: false,
        m: F,
        n: F,
        k: D,
        alpha: 1,
        a: block,
        lda: NC,
        b: block,
        ldb: NC,
        beta: 0,
        c: gram,
        ldc: F,
      });
      muW.set(gram.subarray(E * F, E * F + E), k * E);
      this.#muMu[k] = gram[E * F + E];
      for (let e = 0; e < E; e++) shift[k * F + e] = -muW[k * E + e];
      this.#forwardChain(k);
    }
    for (let b = 0; b < rows; b++) y.set(shift, b * NC);
    blas.sgemmStrided({ // Y = shift + x·[B_1 … B_K]
      transA: false,
      transB: false,
      m: rows,
      n: NC,
      k: D,
      alpha: 1,
      a: x,
      lda: D,
      b: params,
      ldb: NC,
      beta: 1,
      c: y,
      ldc: NC,
    });
    for (let k = 0; k < K; k++) { // P_k Q_k, each a column block of [B, K·E]
      blas.sgemmStrided({
        transA: false,
        transB: false,
        m: rows,
        n: E,
        k: E,
        alpha: 1,
        a: y.subarray(k * F),
        lda: NC,
        b: this.#q32.subarray(k * E * E),
        ldb: E,
        beta: 0,
        c: pq.subarray(k * E),
        ldc: N,
      });
    }
    return this.#choose(x, rows, norms);
  }

  /** Each row's error for every component, its choice (first minimum) and the loss. */
  #choose(x: Float32Array, rows: number, norms: Norms): number {
    const { K, D, E } = this.#dims;
    const N = K * E, F = E + 1, NC = K * F;
    const y = this.#y, pq = this.#pq, choice = this.choice, muMu = this.#muMu;
    let total = 0;
    for (let b = 0; b < rows; b++) {
      const xx = norms === "compute" ? dot(x, x, b * D, D) : norms === "skip" ? 0 : norms[b];
      let best = Infinity, chosen = 0;
      for (let k = 0; k < K; k++) {
        const at = b * NC + k * F;
        const err = xx - 2 * y[at + E] + muMu[k] - dot(y, pq, at, E, b * N + k * E);
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

  /**
   * Rows of x, [G, −2c] (G = −2c·Q_k*P_k*) and P_k* grouped by chosen component (a counting
   * sort), each group followed by its extra rows −μ_kᵀ and [(ΣG)ᵀ, −2c·n_k].
   */
  #group(x: Float32Array, rows: number, params: Float32Array): void {
    const { K, D, E } = this.#dims;
    const N = K * E, F = E + 1, NC = K * F;
    const start = this.#start, slot = this.#slot, fill = this.#fill, choice = this.choice;
    const xs = this.#xs, gs = this.#gs, ps = this.#ps, y = this.#y, pq = this.#pq;
    start.fill(0);
    for (let b = 0; b < rows; b++) start[choice[b] + 1]++;
    for (let k = 0; k < K; k++) start[k + 1] += start[k];
    for (let k = 0; k < K; k++) fill[k] = start[k] + k; // group k's rows begin after k extra rows
    for (let b = 0; b < rows; b++) slot[b] = fill[choice[b]]++;
    const c2 = -2 / (rows * D);
    for (let b = 0; b < rows; b++) {
      const r = slot[b], from = b * N + choice[b] * E, fromP = b * NC + choice[b] * F;
      xs.set(x.subarray(b * D, (b + 1) * D), r * D);
      for (let e = 0; e < E; e++) {
        gs[r * F + e] = c2 * pq[from + e];
        ps[r * E + e] = y[fromP + e];
      }
      gs[r * F + E] = c2;
    }
    for (let k = 0; k < K; k++) {
      const extra = fill[k];
      for (let j = 0; j < D; j++) xs[extra * D + j] = -params[j * NC + k * F + E];
      gs.fill(0, extra * F, extra * F + E);
      for (let r = start[k] + k; r < extra; r++) {
        for (let e = 0; e < E; e++) gs[extra * F + e] += gs[r * F + e];
      }
      gs[extra * F + E] = c2 * (start[k + 1] - start[k]);
    }
  }

  /** ∂B_k = [∂loss/∂W_k | ∂loss/∂μ_k] into its block of {@link gradient}, from k's rows. */
  #backward(k: number, rows: number, params: Float32Array): void {
    const { K, D, E } = this.#dims;
    const F = E + 1, NC = K * F;
    const blas = this.#blas, c = 1 / (rows * D);
    const r0 = this.#start[k] + k, n = this.#start[k + 1] - this.#start[k]; // n rows, 1 extra
    const gs = this.#gs.subarray(r0 * F), r32 = this.#r32, e32 = this.#e32;
    const block = params.subarray(k * F), dBlock = this.gradient.subarray(k * F);
    const product = (g: Omit<StridedGemm<Float32Array>, "transB" | "c" | "ldc">) =>
      blas.sgemmStrided({ ...g, transB: false, c: dBlock, ldc: NC });
    // X̃_kᵀ [[G, −2c·1], [(ΣG)ᵀ, −2c·n_k]]
    product({
      transA: true,
      m: D,
      n: F,
      k: n + 1,
      alpha: 1,
      a: this.#xs.subarray(r0 * D),
      lda: D,
      b: gs,
      ldb: F,
      beta: 0,
    });
    const ps = this.#ps.subarray(r0 * E, (r0 + n) * E);
    blas.sgemm(true, false, E, E, n, ps, ps, e32); // P_kᵀP_k
    const dC = this.#backwardChain(k, -c);
    for (let i = 0; i < E; i++) {
      for (let j = 0; j < E; j++) r32[i * F + j] = dC[i * E + j] + dC[j * E + i];
      r32[i * F + E] = -gs[n * F + i];
    }
    // + W_k [dC + dCᵀ | −ΣG]
    product({
      transA: false,
      m: D,
      n: F,
      k: E,
      alpha: 1,
      a: block,
      lda: NC,
      b: r32,
      ldb: F,
      beta: 1,
    });
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

  /**
   * C_k (the top left E×E of the Gram matrix in #gram) → C, A, S_t (t < T) and Q_k (float32
   * into #q32) for component k.
   */
  #forwardChain(k: number): void {
    const { E } = this.#dims;
    const { steps: T, beta, latentDecay } = this.encoder;
    const EE = E * E, F = E + 1, gram = this.#gram;
    const C = this.#c.subarray(k * EE, (k + 1) * EE);
    for (let i = 0; i < E; i++) for (let j = 0; j < E; j++) C[i * E + j] = gram[i * F + j];
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

/** Images per batch when {@link fusedErrors} and {@link fusedChoices} score a set. */
export const SCORE_ROWS = 1000;

/** What {@link fusedErrors} and {@link fusedChoices} score. */
export interface ScoreOptions {
  blas: OpenBlas;
  dims: ModelDims;
  encoder: Encoder;
  /** The images, row-major n×D. */
  images: Float32Array;
  n: number;
  /** The packed parameters, or μ and W. */
  params: Float32Array | { mu: Float32Array; W: Float32Array };
  /** Scratch to reuse (at least one image per batch). */
  work?: FusedGradients;
}

/** Each image's ‖x‖² (row-major n×D), in float64, for {@link fusedErrors}' `norms`. */
export function imageNorms(images: Float32Array, n: number, D: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dot(images, images, i * D, D);
  return out;
}

/** Runs `score(start, rows, x)` over the images in batches of `scorer.maxRows`. */
function inBatches(
  { dims, images, n }: ScoreOptions,
  scorer: FusedGradients,
  score: (start: number, rows: number, x: Float32Array) => void,
): void {
  const D = dims.D;
  if (images.length !== n * D) {
    throw new Error(`score: ${images.length} values are not ${n} images of ${D} pixels`);
  }
  for (let start = 0; start < n; start += scorer.maxRows) {
    const rows = Math.min(scorer.maxRows, n - start);
    score(start, rows, images.subarray(start * D, (start + rows) * D));
  }
}

/** The scratch and packed parameters scoring `o` uses. */
function scoring(o: ScoreOptions): { scorer: FusedGradients; packed: Float32Array } {
  const { blas, dims, encoder, n, params } = o;
  const packed = params instanceof Float32Array ? params : packParams(dims, params.mu, params.W);
  const scorer = o.work ??
    new FusedGradients({ blas, dims, encoder, maxRows: Math.max(1, Math.min(SCORE_ROWS, n)) });
  return { scorer, packed };
}

/**
 * Each image's chosen component and mean squared error, by the forward pass of
 * {@link FusedGradients} in batches; `norms` ({@link imageNorms} of the same images) saves
 * computing each image's ‖x‖² again.
 */
export function fusedErrors(
  o: ScoreOptions & { norms?: Float64Array },
): { choice: Int32Array; sqErr: Float32Array } {
  const { scorer, packed } = scoring(o);
  const choice = new Int32Array(o.n), sqErr = new Float32Array(o.n);
  inBatches(o, scorer, (start, rows, x) => {
    const norms = o.norms?.subarray(start, start + rows);
    scorer.errors(x, rows, packed, sqErr.subarray(start), norms);
    choice.set(scorer.choice.subarray(0, rows), start);
  });
  return { choice, sqErr };
}

/** Each image's chosen component only (as {@link fusedErrors} chooses it). */
export function fusedChoices(o: ScoreOptions): Int32Array {
  const { scorer, packed } = scoring(o);
  const choice = new Int32Array(o.n);
  inBatches(o, scorer, (start, rows, x) => {
    scorer.choices(x, rows, packed);
    choice.set(scorer.choice.subarray(0, rows), start);
  });
  return choice;
}

/** Σ a[from + i]·b[bFrom + i] over i < `n`, in float64 with four running sums. */
function dot(a: Float32Array, b: Float32Array, from: number, n: number, bFrom = from): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = from, j = bFrom;
  const to = from + n, end4 = from + (n & ~3);
  for (; i < end4; i += 4, j += 4) {
    s0 += a[i] * b[j];
    s1 += a[i + 1] * b[j + 1];
    s2 += a[i + 2] * b[j + 2];
    s3 += a[i + 3] * b[j + 3];
  }
  for (; i < to; i++, j++) s0 += a[i] * b[j];
  return (s0 + s1) + (s2 + s3);
}
