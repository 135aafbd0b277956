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

/** The name of label `label`; throws naming the value when it is not 0–9. */
export function className(label: number): string {
  const name = CLASS_NAMES[label];
  if (name === undefined) {
    throw new Error(`label ${label} is not a Fashion-MNIST class (expected 0–9)`);
  }
  return name;
}
