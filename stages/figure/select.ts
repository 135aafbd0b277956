/**
 * The seeded choice of test images the figure shows: `perClass` images of every class, in
 * class order, drawn by one seeded permutation of the test set (`stages/lib/prng.ts`).
 *
 * @module
 */
import { Rng } from "../lib/prng.ts";
import { CLASS_NAMES } from "../evaluate/classes.ts";

/**
 * Indices into `labels`: for each class 0–9 in turn, the first `perClass` images of that class
 * in a seeded random order. Throws naming the class when the test set has too few of it.
 */
export function pickPerClass(labels: Uint8Array, perClass: number, seed: number): Int32Array {
  const order = new Rng(seed).permutation(labels.length);
  const picked: number[][] = CLASS_NAMES.map(() => []);
  for (const i of order) {
    const bucket = picked[labels[i]];
    if (bucket.length < perClass) bucket.push(i);
  }
  picked.forEach((bucket, c) => {
    if (bucket.length < perClass) {
      throw new Error(
        `figure: the test set has ${bucket.length} images of class ${CLASS_NAMES[c]}, ` +
          `fewer than images_per_class = ${perClass}`,
      );
    }
  });
  return Int32Array.from(picked.flat());
}
