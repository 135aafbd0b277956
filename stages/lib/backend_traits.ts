/**
 * What the research code may rely on about the tfjs backend, decided once when `initBackend`
 * (stages/lib/tf_backend.ts) starts it, so formulations are chosen once instead of on every call.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { blasOf } from "./blas/backend.ts";
import type { OpenBlas } from "./blas/openblas.ts";

/** The started backend's traits. */
export interface BackendTraits {
  /** The tfjs backend name. */
  readonly name: string;
  /** Its OpenBLAS, when it is a blas backend: products read transposed operands for free. */
  readonly blas?: OpenBlas;
}

let started: BackendTraits | undefined;

/** Records the traits of backend `name`; called by `initBackend` once it is set. */
export function recordBackendTraits(name: string): BackendTraits {
  started = { name, blas: blasOf(name) };
  return started;
}

/**
 * The traits recorded when the backend started; if none was started through `initBackend`,
 * those of the active tfjs backend at the first call.
 */
export function backendTraits(): BackendTraits {
  return started ?? recordBackendTraits(tf.getBackend());
}
