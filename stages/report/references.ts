/**
 * Published reference numbers the report sets our results beside (test MSE: per-pixel squared
 * error on the 0–255 scale, each image centred on its own mean, averaged over the test set).
 *
 * @module
 */

/** A published number and where it comes from. */
export interface Reference {
  value: number;
  label: string;
  source: string;
}

/**
 * The note's LLGAE run (K = 11, E = 20, T = 5, β = 0.01, RMSprop lr 1e-3, batch 360, seed 28):
 * its checkpoint name ends in `_540_768.06268.pkl`, i.e. epoch 540, test loss 768.06.
 */
export const NOTE_LLGAE: Reference = {
  value: 768.06,
  label: "768.06 (note)",
  source: "the note's LLGAE run, K=11, E=20, T=5, β=0.01, epoch 540 (checkpoint name)",
};

/** The PCA (E = 20) reference the LGAE is compared with: an LGAE can at best match PCA. */
export const PCA_REFERENCE: Reference = {
  value: 1208,
  label: "1208 (PCA ref.)",
  source:
    "the project's PCA reference for E=20; our own closed-form PCA baseline is measured beside it",
};

/** The reference for a model with `components` components: the note for LLGAE, PCA for LGAE. */
export function referenceFor(components: number): Reference {
  return components > 1 ? NOTE_LLGAE : PCA_REFERENCE;
}
