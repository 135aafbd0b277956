/**
 * Facts about the research note the pipeline reproduces, CATSMILE-1022 (LLGAE), in one place:
 * its public address and its published run. Test MSE is per-pixel squared error on the 0–255
 * scale, each image centred on its own mean, averaged over the 10,000 test images.
 *
 * @module
 */

/** The note's public address (the first line of the seed file). */
export const NOTE_URL = "https://zhuanlan.zhihu.com/p/530856390";

/**
 * The note's LLGAE run: K = 11, E = 20, T = 5, β = 0.01, RMSprop lr 1e-3, batch 360, seed 28.
 * Its checkpoint name ends in `_540_768.06268.pkl`, i.e. test loss 768.06 after 540 epochs.
 */
export const NOTE_LLGAE = {
  /** The published test MSE. */
  value: 768.06,
  /** The epoch its checkpoint name records. */
  epoch: 540,
  /** Where the number comes from, for a reader. */
  source: "the note's LLGAE run (K = 11, E = 20, T = 5, β = 0.01, seed 28): its checkpoint " +
    "name records epoch 540 and test loss 768.06268",
} as const;
