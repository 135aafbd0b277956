/**
 * The format of the `shuffle` stage's outputs, shared by its writer (run.ts) and its readers
 * (train, evaluate, figure): `<split>_images.npy` (float32 [n, 784], 0–255 scale, each image
 * centred on its own mean), `<split>_labels.npy` (uint8 [n]) and `meta.json`. Errors name the
 * file and the key.
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
import { readJson } from "../lib/json_file.ts";
import { readNpyFloat32, readNpyUint8 } from "../lib/npy.ts";
import { CLASSES } from "../download/idx.ts";

/** The three splits. */
export type SplitName = "train" | "val" | "test";

/** The file names of a split's arrays. */
export function splitFiles(split: SplitName): { images: string; labels: string } {
  return { images: `${split}_images.npy`, labels: `${split}_labels.npy` };
}

/** `meta.json`: what the arrays hold and where they came from. */
export const shuffleMeta = z.object({
  dataset: z.string(),
  seed: z.int(),
  val_size: z.int().min(0),
  limit: z.int().positive().nullable(),
  test_limit: z.int().positive().nullable(),
  /** The preprocessing in words (it defines the reported metric's scale). */
  preprocessing: z.string(),
  /** Per array file: shape, dtype and sha256 of the file. */
  arrays: z.record(
    z.string(),
    z.object({ shape: z.array(z.int().min(0)), dtype: z.string(), sha256: z.string() }),
  ),
  /** Images of each class per split. */
  class_counts: z.record(z.string(), z.array(z.int().min(0))),
  /** sha256 of each raw idx file read. */
  sources: z.record(z.string(), z.string()),
});

/** A parsed `meta.json`. */
export type ShuffleMeta = z.infer<typeof shuffleMeta>;

/** Images in each split of a shuffle output. */
export type SplitSizes = Record<SplitName, number>;

/** The split sizes recorded in `meta.json` of the shuffle output `dir`. */
export async function readSplitSizes(dir: string): Promise<SplitSizes> {
  const path = join(dir, "meta.json");
  const { arrays } = await readJson(shuffleMeta, path);
  const rows = (split: SplitName) => {
    const shape = arrays[splitFiles(split).images]?.shape;
    if (!shape) {
      throw new Error(`${path}: arrays.${splitFiles(split).images}: missing; rerun shuffle`);
    }
    return shape[0];
  };
  return { train: rows("train"), val: rows("val"), test: rows("test") };
}

/** Images (row-major n×d) and their labels. */
export interface Split {
  images: Float32Array;
  labels: Uint8Array;
  n: number;
  d: number;
}

/** Reads and checks the `split` arrays in the shuffle output `dir`. */
export async function readSplit(dir: string, split: SplitName): Promise<Split> {
  const imagesPath = join(dir, splitFiles(split).images);
  const labelsPath = join(dir, splitFiles(split).labels);
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
  const bad = labels.data.findIndex((c) => c >= CLASSES);
  if (bad >= 0) {
    throw new Error(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is not a class 0–9`);
  }
  return { images: images.data, labels: labels.data, n, d };
}
