/**
 * The `backend` param shared by the stage kinds that run tfjs (`train`, `evaluate`, `figure`):
 * its schema and the runtime facts it asks the engine for (the resolved backend and BLAS
 * library, resolved by the engine's own probe, `pipeline/permissions/runtime_facts.ts`).
 *
 * @module
 */
import { z } from "zod";
import type { RuntimeRequest } from "../../pipeline/stage_kind.ts";

/**
 * `backend:` — the tfjs backend. `auto` (the default) is OpenBLAS through FFI when the library
 * loads, else wasm with a one-line notice; `blas`, `wasm`, `cpu` force one.
 */
export const backendParam = z.enum(
  ["auto", "blas", "wasm", "cpu"],
  "backend must be auto, blas, wasm or cpu",
).default("auto");

/** The kind's `runtime()`: the requested backend, for the engine to resolve. */
export function backendRequest(params: { backend: z.infer<typeof backendParam> }): RuntimeRequest {
  return { tfjs: params.backend };
}
