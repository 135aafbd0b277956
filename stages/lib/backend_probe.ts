/**
 * Resolves a requested tfjs backend (`auto`, `blas`, `wasm`, `cpu`) to the one this machine will
 * run, without importing tfjs: `auto` means `blas` when OpenBLAS loads, else `wasm` with a
 * one-line notice. Used by a stage kind's `runtime()` so the backend, the BLAS library and its
 * thread count enter the cache key and the manifest.
 *
 * @module
 */
import { BlasUnavailableError, openBlas } from "./blas/openblas.ts";

/** What a config may ask for. */
export type BackendRequest = "auto" | "blas" | "wasm" | "cpu";

/** BLAS threads used unless told otherwise: fixed, so runs split their work the same way. */
export const DEFAULT_BLAS_THREADS = 2;

/** The resolved backend. */
export interface BackendProbe {
  /** The backend that will run. */
  backend: "blas" | "wasm" | "cpu";
  /** For `blas`: the library path and its `openblas_get_config()` string. */
  library?: string;
  /** For `blas`: the fixed BLAS thread count. */
  threads?: number;
  /** For `auto` falling back to wasm: why BLAS is not used (one line). */
  notice?: string;
}

/** Options of {@link probeBackend}. */
export interface ProbeOptions {
  /** An explicit library path instead of the OS's usual OpenBLAS locations. */
  library?: string;
  /** BLAS thread count (default {@link DEFAULT_BLAS_THREADS}). */
  threads?: number;
}

/**
 * Resolves `requested`. `blas` throws a clear error when no OpenBLAS loads; `auto` falls back to
 * `wasm` with a notice instead; `wasm` and `cpu` are returned as they are.
 */
export function probeBackend(requested: BackendRequest, options: ProbeOptions = {}): BackendProbe {
  if (requested === "wasm" || requested === "cpu") return { backend: requested };
  if (requested !== "auto" && requested !== "blas") {
    throw new Error(`unknown backend '${requested}': use auto, blas, wasm or cpu`);
  }
  const threads = options.threads ?? DEFAULT_BLAS_THREADS;
  try {
    const blas = openBlas({ library: options.library, threads });
    return { backend: "blas", library: `${blas.path} (${blas.config})`, threads: blas.threads };
  } catch (error) {
    if (requested === "blas" || !(error instanceof BlasUnavailableError)) throw error;
    return { backend: "wasm", notice: `backend auto: using wasm, ${error.message}` };
  }
}

/** The probe as the string map a stage kind's `runtime()` returns (cache key and manifest). */
export function backendRuntime(probe: BackendProbe): Record<string, string> {
  const runtime: Record<string, string> = { backend: probe.backend };
  if (probe.library !== undefined) runtime.blas_library = probe.library;
  if (probe.threads !== undefined) runtime.blas_threads = String(probe.threads);
  return runtime;
}
