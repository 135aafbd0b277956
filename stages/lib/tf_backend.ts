/**
 * Sets up the tfjs backend the research code computes with.
 *
 * - `wasm`: @tensorflow/tfjs-backend-wasm with SIMD on one thread (deterministic, the default).
 * - `cpu`: @tensorflow/tfjs-backend-cpu, plain JavaScript; slow but needs nothing else.
 * - `blas`, `auto`: for now both fall back to `wasm` with a one-line notice.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";

/** The backend names a config may ask for. */
export type BackendName = "auto" | "blas" | "wasm" | "cpu";

/** The directory holding the tfjs wasm binaries (`tfjs-backend-wasm-simd.wasm`, …). */
export function wasmBinaryDir(): string {
  const main = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
  return dirname(main) + "/";
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

/**
 * Makes `name` the active tfjs backend and returns the backend actually set up
 * (`"wasm"` or `"cpu"`).
 */
export async function initBackend(name: BackendName): Promise<string> {
  switch (name) {
    case "wasm":
      return await initWasm();
    case "cpu":
      if (!(await tf.setBackend("cpu"))) throw new Error("tfjs cpu backend failed to start");
      return "cpu";
    case "auto":
    case "blas":
      console.error(`backend ${name}: no BLAS backend in this build yet, using wasm`);
      return await initWasm();
    default:
      throw new Error(`unknown backend ${JSON.stringify(name)}: use auto, blas, wasm or cpu`);
  }
}
