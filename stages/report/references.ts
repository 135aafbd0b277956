/**
 * Published reference numbers the report sets our results beside (test MSE: per-pixel squared
 * error on the 0–255 scale, each image centred on its own mean, averaged over the test set).
 *
 * @module
 */

/** A published number and where it comes from. */
export interface Reference {
  value: number;
  /** The training epoch the number was measured at, when published. */
  epoch?: number;
  source: string;
}

/**
 * The note's LLGAE run (K = 11, E = 20, T = 5, β = 0.01, RMSprop lr 1e-3, batch 360, seed 28):
 * its checkpoint name ends in `_540_768.06268.pkl`, i.e. epoch 540, test loss 768.06.
 */
export const NOTE_LLGAE: Reference = {
  value: 768.06,
  epoch: 540,
  source: "the note's LLGAE run, K=11, E=20, T=5, β=0.01, epoch 540 (checkpoint name)",
};
