/**
 * Scores one model's pass over the test set: the note's test MSE, MSE per class, which
 * component each image chose, and how well that choice matches the class.
 *
 * @module
 */
import { contingency, majorityClass, nmi, purity, usage } from "./agreement.ts";
import { CLASS_NAMES } from "./classes.ts";
import type { ModelScores } from "./metrics.ts";
import { summarizeErrors } from "./scores.ts";

/** What a forward pass over the test set gives, per image. */
export interface TestPass {
  /** Chosen component k of each image. */
  choice: Int32Array;
  /** Mean squared pixel error of each image's reconstruction. */
  sqErr: Float32Array;
}

/** The scores of a model with `components` components and latent dimension `latentDim`. */
export function scoreModel(
  pass: TestPass,
  labels: Uint8Array,
  components: number,
  latentDim: number,
): ModelScores {
  const table = contingency(pass.choice, labels, components, CLASS_NAMES.length);
  return {
    components,
    latent_dim: latentDim,
    ...summarizeErrors(pass.sqErr, labels),
    usage: usage(table),
    purity: purity(table),
    nmi: nmi(table),
    majority_class: majorityClass(table).map((c) => c === null ? null : CLASS_NAMES[c]),
  };
}
