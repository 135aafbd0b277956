/**
 * The system OpenBLAS through Deno FFI: loads the library, fixes its thread count through its
 * own API (so repeated runs split work the same way), and exposes single-precision GEMM.
 * Light: no tfjs here, so `backend_probe.ts` can use it from a stage kind's `runtime()`.
 *
 * @module
 */

/** Library paths tried in order when none is given explicitly. */
export const OPENBLAS_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  linux: [
    "libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "/usr/lib64/libopenblas.so.0",
    "libopenblas.so",
  ],
  darwin: [
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
  ],
};

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32", // order, transA, transB
      "i32",
      "i32",
      "i32", // M, N, K
      "f32",
      "buffer",
      "i32", // alpha, A, lda
      "buffer",
      "i32", // B, ldb
      "f32",
      "buffer",
      "i32", // beta, C, ldc
    ],
    result: "void",
  },
  cblas_dgemm: { // as cblas_sgemm, with float64 alpha, beta and arrays
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f64",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_ssyrk: { // order, uplo, trans, N, K, alpha, A, lda, beta, C, ldc
    parameters: ["i32", "i32", "i32", "i32", "i32", "f32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  cblas_saxpy: {
    parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"], // n, alpha, x, incx, y, incy
    result: "void",
  },
  cblas_sscal: { parameters: ["i32", "f32", "buffer", "i32"], result: "void" }, // n, alpha, x, incx
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101;
const NO_TRANS = 111;
/** Products with fewer multiply-adds (m·n·k) than this run on one thread. */
const SINGLE_THREAD_GEMM = 1 << 23;
/**
 * OpenBLAS's own gemm runs products of at most this many multiply-adds on one thread (its
 * `SMP_THRESHOLD_MIN` 65536 × `GEMM_MULTITHREAD_THRESHOLD` 4), so they need no thread switch.
 */
const LIBRARY_SINGLE_THREAD_GEMM = 65536 * 4;
const TRANS = 112;
const UPPER = 121;

/** A loaded OpenBLAS with a fixed thread count. */
export interface OpenBlas {
  /** The path or soname it was opened by. */
  readonly path: string;
  /** `openblas_get_config()`: version, build options and the CPU core kernel in use. */
  readonly config: string;
  /** Thread count reported by the library after fixing it. */
  readonly threads: number;
  /**
   * Row-major C = A·B (with optional transposes) on float32 views:
   * `a` holds op(A) as M×K (K×M when `transA`), `b` holds op(B) as K×N (N×K when `transB`),
   * `c` receives M×N. Each argument may be a subarray of a larger buffer.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
  ): void;
  /** {@link sgemm} in float64. */
  dgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float64Array,
    b: Float64Array,
    c: Float64Array,
  ): void;
  /**
   * C ← alpha·op(A)·op(B) + beta·C in float32 on blocks of larger row-major arrays: each operand
   * starts at element 0 of its view and has its own leading dimension (elements between rows).
   */
  sgemmStrided(g: StridedGemm<Float32Array>): void;
  /** {@link sgemmStrided} in float64. */
  dgemmStrided(g: StridedGemm<Float64Array>): void;
  /**
   * The upper triangle (row-major) of C ← alpha·AᵀA + beta·C for `a` holding `rows` rows of n
   * floats (C is n×n; its strict lower triangle is left as it was). beta 1 accumulates.
   */
  ssyrkUpper(
    n: number,
    rows: number,
    alpha: number,
    a: Float32Array,
    beta: number,
    c: Float32Array,
  ): void;
  /** y ← alpha·x + y over n elements of y; x is read with stride `incx` (0 repeats x[0]). */
  saxpy(n: number, alpha: number, x: Float32Array, incx: number, y: Float32Array): void;
  /** x ← alpha·x over n elements. */
  sscal(n: number, alpha: number, x: Float32Array): void;
}

/** The arguments of a strided GEMM, as `cblas_?gemm` takes them (row-major). */
export interface StridedGemm<T extends Float32Array | Float64Array> {
  transA: boolean;
  transB: boolean;
  /** Rows of C and of op(A). */
  m: number;
  /** Columns of C and of op(B). */
  n: number;
  /** Columns of op(A), rows of op(B). */
  k: number;
  alpha: number;
  /** A (M×K, or K×M when `transA`), `lda` elements from one row to the next. */
  a: T;
  lda: number;
  b: T;
  ldb: number;
  /** 0 overwrites C (whatever it held), 1 accumulates. */
  beta: number;
  c: T;
  ldc: number;
}

/**
 * Idle OpenBLAS worker threads spin for 2^28 cycles (about 0.1 s) before they sleep, so after
 * each threaded product one holds the second core while JavaScript runs the elementwise work
 * (an LLGAE epoch on 2 cores used 3.9 s of CPU for 1.95 s of wall time). 2^4 cycles lets them
 * sleep at once; `bench blas` measured the repeated 360×784·784×220 product as fast either way.
 * OpenBLAS reads the variable when it loads; a value already set in the environment is kept.
 * It changes only waiting, never which thread computes what.
 */
const THREAD_TIMEOUT_VARIABLE = "OPENBLAS_THREAD_TIMEOUT";
const THREAD_TIMEOUT_LOG2 = "4";

/** Raised when no OpenBLAS could be loaded; `message` lists what was tried and why it failed. */
export class BlasUnavailableError extends Error {
  override name = "BlasUnavailableError";
}

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;
const opened = new Map<string, Lib>();

/**
 * Opens OpenBLAS (an explicit `library` path, else the first loadable entry of
 * {@link OPENBLAS_CANDIDATES} for this OS) and sets its thread count to `threads`.
 * A library stays loaded for the life of the process; opening it again reuses the handle and
 * sets the thread count again. The thread count is process-wide: the last call wins.
 */
export function openBlas(options: { library?: string; threads: number }): OpenBlas {
  const { library, threads } = options;
  if (Deno.env.get(THREAD_TIMEOUT_VARIABLE) === undefined) {
    Deno.env.set(THREAD_TIMEOUT_VARIABLE, THREAD_TIMEOUT_LOG2);
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`BLAS threads must be an integer >= 1, got ${threads}`);
  }
  const candidates = library ? [library] : OPENBLAS_CANDIDATES[Deno.build.os] ?? [];
  const failures: string[] = [];
  for (const path of candidates) {
    let lib = opened.get(path);
    try {
      lib ??= Deno.dlopen(path, SYMBOLS);
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        break;
      }
      continue;
    }
    opened.set(path, lib);
    return wrap(lib, path, threads);
  }
  const tried = failures.length ? failures.join("; ") : `no candidates for OS ${Deno.build.os}`;
  throw new BlasUnavailableError(
    `could not load OpenBLAS (${tried}). Install it (Debian/Ubuntu: apt-get install ` +
      `libopenblas0-pthread; macOS: brew install openblas), run with --allow-ffi, or choose ` +
      `backend: wasm or cpu.`,
  );
}

function wrap(lib: Lib, path: string, threads: number): OpenBlas {
  const s = lib.symbols;
  s.openblas_set_num_threads(threads);
  const actual = s.openblas_get_num_threads();
  if (actual !== threads) {
    throw new BlasUnavailableError(
      `asked OpenBLAS at ${path} for ${threads} threads but it reports ${actual}`,
    );
  }
  /** C ← alpha·op(A)·op(B) + beta·C with explicit leading dimensions. */
  const strided = (g: StridedGemm<Float32Array> | StridedGemm<Float64Array>) => {
    if (g.m === 0 || g.n === 0) return;
    if (g.k === 0) { // C ← beta·C, row by row
      for (let r = 0; r < g.m; r++) {
        const row = g.c.subarray(r * g.ldc, r * g.ldc + g.n);
        if (g.beta === 0) row.fill(0);
        else for (let i = 0; i < g.n; i++) row[i] *= g.beta;
      }
      return;
    }
    // Small products run on one thread: waking a second one costs more than it saves. The
    // last bits can differ from a threaded run, but the choice depends only on the shape, so
    // results stay deterministic.
    const mnk = g.m * g.n * g.k;
    const single = mnk < SINGLE_THREAD_GEMM && mnk > LIBRARY_SINGLE_THREAD_GEMM && actual > 1;
    if (single) s.openblas_set_num_threads(1);
    (g.c instanceof Float64Array ? s.cblas_dgemm : s.cblas_sgemm)(
      ROW_MAJOR,
      g.transA ? TRANS : NO_TRANS,
      g.transB ? TRANS : NO_TRANS,
      g.m,
      g.n,
      g.k,
      g.alpha,
      g.a,
      g.lda,
      g.b,
      g.ldb,
      g.beta,
      g.c,
      g.ldc,
    );
    if (single) s.openblas_set_num_threads(actual);
  };
  /** Row-major C = op(A)·op(B) on whole (contiguous) matrices. */
  const gemm = (
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array | Float64Array,
    b: Float32Array | Float64Array,
    c: Float32Array | Float64Array,
  ) =>
    strided(
      {
        transA,
        transB,
        m,
        n,
        k,
        alpha: 1,
        a,
        lda: transA ? m : k,
        b,
        ldb: transB ? k : n,
        beta: 0,
        c,
        ldc: n,
      } as StridedGemm<Float32Array> | StridedGemm<Float64Array>,
    );
  const configPtr = s.openblas_get_config();
  return {
    path,
    // Read on demand: reading a C string needs unscoped FFI, which stage processes lack.
    get config() {
      return configPtr ? new Deno.UnsafePointerView(configPtr).getCString().trim() : "";
    },
    threads: actual,
    sgemm(transA, transB, m, n, k, a, b, c) {
      gemm(transA, transB, m, n, k, a, b, c);
    },
    dgemm(transA, transB, m, n, k, a, b, c) {
      gemm(transA, transB, m, n, k, a, b, c);
    },
    ssyrkUpper(n, rows, alpha, a, beta, c) {
      if (n === 0) return;
      if (rows === 0) { // C ← beta·C on the upper triangle
        for (let i = 0; i < n; i++) {
          for (let j = i; j < n; j++) c[i * n + j] = beta === 0 ? 0 : beta * c[i * n + j];
        }
        return;
      }
      s.cblas_ssyrk(ROW_MAJOR, UPPER, TRANS, n, rows, alpha, a, n, beta, c, n);
    },
    sgemmStrided: strided,
    dgemmStrided: strided,
    // Level 1 runs on one thread: it is memory-bound, so waking a second thread costs more
    // than it gains (much more when other processes hold the cores). Results are the same.
    saxpy(n, alpha, x, incx, y) {
      if (n === 0) return;
      s.openblas_set_num_threads(1);
      s.cblas_saxpy(n, alpha, x, incx, y, 1);
      s.openblas_set_num_threads(actual);
    },
    sscal(n, alpha, x) {
      if (n === 0) return;
      s.openblas_set_num_threads(1);
      s.cblas_sscal(n, alpha, x, 1);
      s.openblas_set_num_threads(actual);
    },
  };
}
