/**
 * The `backend` param shared by the stage kinds that run tfjs (`train`, `evaluate`, `figure`):
 * its schema, the runtime facts it resolves to (cache key) and the permissions it needs (FFI for
 * OpenBLAS).
 *
 * @module
 */
import { z } from "zod";
import type { StagePermissions } from "../../pipeline/stage_kind.ts";
import { backendRuntime, probeBackend } from "./backend_probe.ts";

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

/** FFI only when the backend may be OpenBLAS. */
export function backendPermissions(
  params: { backend: z.infer<typeof backendParam> },
): StagePermissions {
  return { ffi: params.backend === "auto" || params.backend === "blas" };
}
