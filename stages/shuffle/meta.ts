/**
 * The `shuffle` stage's `meta.json` as its readers see it: the shape of every array, from which
 * the split sizes follow. Errors name the file and the key.
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
import { readJson } from "../evaluate/json_file.ts";

/** The fields of `meta.json` readers use. */
export const shuffleMeta = z.looseObject({
  arrays: z.record(z.string(), z.looseObject({ shape: z.array(z.int().min(0)) })),
});

/** Images in each split of a shuffle output. */
export interface SplitSizes {
  train: number;
  val: number;
  test: number;
}

/** The split sizes recorded in `meta.json` of the shuffle output `dir`. */
export async function readSplitSizes(dir: string): Promise<SplitSizes> {
  const path = join(dir, "meta.json");
  const { arrays } = await readJson(shuffleMeta, path);
  const rows = (split: keyof SplitSizes) => {
    const shape = arrays[`${split}_images.npy`]?.shape;
    if (!shape) throw new Error(`${path}: arrays.${split}_images.npy: missing; rerun shuffle`);
    return shape[0];
  };
  return { train: rows("train"), val: rows("val"), test: rows("test") };
}
