/**
 * The ten Fashion-MNIST classes, by label value (0–9), as named in the dataset's README.
 *
 * @module
 */

/** Class names indexed by label. */
export const CLASS_NAMES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
