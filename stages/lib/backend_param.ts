/**
 * The `backend` param shared by the stage kinds that run tfjs (`train`, `evaluate`, `figure`):
 * its schema, the runtime facts it resolves to (cache key) and the permissions it needs (FFI for
 * OpenBLAS).
 *
 * @module
 */
import { z } from "zod";
import type { StagePermissions } from "../../pipeline/stage_kind.ts";
import {
  backendRuntime,
  BLAS_LIBRARY_VARIABLE,
  probeBackend,
  runtimeLibraryPath,
} from "./backend_probe.ts";

/**
 * `backend:` — the tfjs backend. `auto` (the default) is OpenBLAS through FFI when the library
 * loads, else wasm with a one-line notice; `blas`, `wasm`, `cpu` force one.
 */
export const backendParam = z.enum(
  ["auto", "blas", "wasm", "cpu"],
  "backend must be auto, blas, wasm or cpu",
).default("auto");

/** The resolved backend (and BLAS library/threads) as the kind's `runtime()` map. */
export function resolvedBackend(params: { backend: z.infer<typeof backendParam> }) {
  return Promise.resolve(backendRuntime(probeBackend(params.backend)));
}

/**
 * glibc's malloc tunables for BLAS stages: blocks up to 32 MiB come from the heap instead of
 * fresh `mmap` pages (each new product output would otherwise fault in all its pages again,
 * ~1 ms per `tf.matMul` in a VM), and twice that is kept before trimming, as glibc's own
 * adjustment does. Set through the environment, so no stage needs to call into libc.
 */
const MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864";

/**
 * OpenBLAS settings passed on from the engine's environment when set there: they choose the
 * kernels (`OPENBLAS_CORETYPE`, `OPENBLAS_L2_SIZE`) and so the bits, and the engine's `runtime()`
 * probe (whose config string is in the cache key) saw them too. Idle workers sleep after 2^4
 * cycles unless `OPENBLAS_THREAD_TIMEOUT` says otherwise (see `blas/openblas.ts`).
 */
const OPENBLAS_SETTINGS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_THREAD_TIMEOUT"];
const OPENBLAS_THREAD_TIMEOUT = "4";

/** The {@link OPENBLAS_SETTINGS} set in this process's environment. */
function openBlasSettings(): Record<string, string> {
  const set = OPENBLAS_SETTINGS.map((name) => [name, Deno.env.get(name)] as const);
  return Object.fromEntries(set.filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

/**
 * FFI of exactly the library the runtime resolved, only when the resolved backend is `blas`,
 * with the environment that library and glibc read at start-up.
 */
export function backendPermissions(
  _params: { backend: z.infer<typeof backendParam> },
  runtime?: Record<string, string>,
): StagePermissions {
  const library = runtime?.backend === "blas" ? runtimeLibraryPath(runtime) : undefined;
  if (!library) return {};
  return {
    ffi: [library],
    env: {
      [BLAS_LIBRARY_VARIABLE]: library,
      GLIBC_TUNABLES: MALLOC_TUNABLES,
      OPENBLAS_THREAD_TIMEOUT,
      ...openBlasSettings(),
    },
  };
}
