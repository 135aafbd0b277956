/**
 * Which training images go where: a seeded Fisher–Yates permutation of all of them, the first
 * `val_size` for validation, the next `limit` (or all the rest) for training.
 *
 * @module
 */
import { Rng } from "../lib/prng.ts";

/** Row indices into the original training file. */
export interface Split {
  train: Int32Array;
  val: Int32Array;
}

/** Splits `count` training images; throws naming the param when the sizes do not fit. */
export function planSplit(
  count: number,
  params: { seed: number; val_size: number; limit?: number },
): Split {
  const { seed, val_size: valSize, limit } = params;
  if (valSize >= count) {
    throw new Error(
      `shuffle: val_size ${valSize} leaves no training images (the training set has ${count}); ` +
        "lower val_size",
    );
  }
  const left = count - valSize;
  if (limit !== undefined && limit > left) {
    throw new Error(
      `shuffle: limit ${limit} exceeds the ${left} training images left after val_size ${valSize}; ` +
        "lower limit or val_size, or remove limit",
    );
  }
  const order = new Rng(seed).permutation(count);
  return {
    val: order.slice(0, valSize),
    train: order.slice(valSize, valSize + (limit ?? left)),
  };
}
