/**
 * Reads one split written by the `shuffle` stage: `<split>_images.npy` (float32 [n, 784],
 * 0–255 scale, each image centred on its own mean) and `<split>_labels.npy` (uint8 [n]).
 *
 * @module
 */
import { join } from "node:path";
import { readNpyFloat32, readNpyUint8 } from "../lib/npy.ts";
import { CLASS_NAMES } from "./classes.ts";

/** Images (row-major n×d) and their labels. */
export interface Split {
  images: Float32Array;
  labels: Uint8Array;
  n: number;
  d: number;
}

/** Reads and checks the `split` ("train", "val" or "test") arrays in the shuffle output `dir`. */
export async function readSplit(dir: string, split: "train" | "val" | "test"): Promise<Split> {
  const imagesPath = join(dir, `${split}_images.npy`);
  const labelsPath = join(dir, `${split}_labels.npy`);
  const images = await readNpyFloat32(imagesPath);
  const labels = await readNpyUint8(labelsPath);
  if (images.shape.length !== 2) {
    throw new Error(`${imagesPath}: expected shape [n, 784], found [${images.shape}]`);
  }
  const [n, d] = images.shape;
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new Error(
      `${labelsPath}: expected shape [${n}] to match ${imagesPath}, found [${labels.shape}]`,
    );
  }
  const bad = labels.data.findIndex((c) => c >= CLASS_NAMES.length);
  if (bad >= 0) {
    throw new Error(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is not a class 0–9`);
  }
  return { images: images.data, labels: labels.data, n, d };
}
