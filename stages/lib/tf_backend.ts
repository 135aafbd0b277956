/**
 * Sets up the tfjs backend the research code computes with.
 *
 * - `wasm`: @tensorflow/tfjs-backend-wasm with SIMD on one thread (deterministic, the default).
 * - `cpu`: @tensorflow/tfjs-backend-cpu, plain JavaScript; slow but needs nothing else.
 * - `blas`: the cpu backend with matrix products on the system OpenBLAS through FFI
 *   (`stages/lib/blas/`), fixed thread count; needs `--allow-ffi`.
 * - `auto`: `blas` when OpenBLAS loads, else `wasm` with a one-line notice.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { npmPackageDir } from "./npm_dir.ts";
import { probeBackend } from "./backend_probe.ts";
import { openBlas } from "./blas/openblas.ts";
import { BLAS_BACKEND, registerBlasBackend } from "./blas/backend.ts";
import { recordBackendTraits } from "./backend_traits.ts";

/** The backend names a config may ask for. */
export type BackendName = "auto" | "blas" | "wasm" | "cpu";

/** The directory holding the tfjs wasm binaries (`tfjs-backend-wasm-simd.wasm`, …). */
export function wasmBinaryDir(): string {
  return `${npmPackageDir("@tensorflow/tfjs-backend-wasm")}dist/`;
}

async function initWasm(): Promise<string> {
  // One thread keeps results bit-identical run to run; SIMD is in every current V8.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
  setWasmPaths(wasmBinaryDir());
  if (!(await tf.setBackend("wasm"))) {
    throw new Error(`tfjs wasm backend failed to start (binaries in ${wasmBinaryDir()})`);
  }
  return "wasm";
}

async function initBlas(library: string, threads: number): Promise<string> {
  registerBlasBackend(openBlas({ library, threads }));
  if (!(await tf.setBackend(BLAS_BACKEND))) throw new Error("tfjs blas backend failed to start");
  return BLAS_BACKEND;
}

/**
 * Makes `name` the active tfjs backend and returns the backend actually set up
 * (`"blas"`, `"wasm"` or `"cpu"`), whose traits (stages/lib/backend_traits.ts) the research
 * code then reads.
 */
export async function initBackend(name: BackendName): Promise<string> {
  const backend = await startBackend(name);
  recordBackendTraits(backend);
  return backend;
}

async function startBackend(name: BackendName): Promise<string> {
  // Mutes tfjs's console advice to install tfjs-node (which cannot install here) on the first
  // tensor of a cpu-based backend. In tfjs 4.22 `PROD` only gates tfjs's own warnings and logs.
  tf.env().set("PROD", true);
  switch (name) {
    case "wasm":
      return await initWasm();
    case "cpu":
      if (!(await tf.setBackend("cpu"))) throw new Error("tfjs cpu backend failed to start");
      return "cpu";
    case "auto":
    case "blas": {
      const probe = probeBackend(name);
      if (probe.backend === "blas") return await initBlas(probe.path!, probe.threads!);
      if (probe.notice) console.error(probe.notice);
      return await initWasm();
    }
    default:
      throw new Error(`unknown backend ${JSON.stringify(name)}: use auto, blas, wasm or cpu`);
  }
}
