/**
 * Summaries of per-image reconstruction errors: the note's test MSE and the MSE per class.
 *
 * @module
 */
import { CLASS_NAMES } from "./classes.ts";

/** The test MSE and the MSE of each Fashion-MNIST class, keyed by class name. */
export interface ErrorSummary {
  test_mse: number;
  per_class: Record<string, number>;
}

/**
 * The note's metric — the mean over images of the per-image mean squared pixel error — and
 * the same mean within each class. Classes with no images are left out.
 */
export function summarizeErrors(errors: ArrayLike<number>, labels: Uint8Array): ErrorSummary {
  if (errors.length !== labels.length) {
    throw new Error(`summarizeErrors: ${errors.length} errors but ${labels.length} labels`);
  }
  const sums = new Float64Array(CLASS_NAMES.length);
  const counts = new Float64Array(CLASS_NAMES.length);
  let total = 0;
  for (let i = 0; i < errors.length; i++) {
    total += errors[i];
    sums[labels[i]] += errors[i];
    counts[labels[i]]++;
  }
  const per_class: Record<string, number> = {};
  CLASS_NAMES.forEach((name, c) => {
    if (counts[c] > 0) per_class[name] = sums[c] / counts[c];
  });
  return { test_mse: total / errors.length, per_class };
}
