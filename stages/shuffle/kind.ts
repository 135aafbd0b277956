/**
 * The `shuffle` stage kind: a seeded permutation of the Fashion-MNIST training set, an optional
 * validation split, and the note's preprocessing (float32 pixels on the 0–255 scale, each image
 * centred on its own mean), written as `.npy` arrays plus `meta.json`.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";

/** Params of `shuffle` (`with:`). */
export const shuffleParams = z.strictObject({
  /** Seed of the xoroshiro128+ stream that permutes the training set (the note's runs use 28). */
  seed: z.int().min(0).max(2 ** 31 - 1).default(28),
  /** Images held out from the training set (the first `val_size` after shuffling). */
  val_size: z.int().min(0).default(0),
  /** Keep only this many training images (the next ones after the validation split). */
  limit: z.int().positive().optional(),
  /** Keep only the first this many test images (file order), e.g. for smoke configs. */
  test_limit: z.int().positive().optional(),
});

/** Validated params of `shuffle`. */
export type ShuffleParams = z.infer<typeof shuffleParams>;

/** The `.npy` arrays the stage writes, in this order. */
export const ARRAY_FILES = [
  "train_images.npy",
  "train_labels.npy",
  "val_images.npy",
  "val_labels.npy",
  "test_images.npy",
  "test_labels.npy",
] as const;

/** The `shuffle` stage kind. */
export const kind: StageKind<ShuffleParams> = {
  description: "Seeded shuffle, split and per-image mean centring of Fashion-MNIST (.npy arrays)",
  params: shuffleParams,
  inputs: { raw: { description: "the four decompressed Fashion-MNIST idx files (download)" } },
  outputs: () => [...ARRAY_FILES, "meta.json"],
  /** Default resources (holds the decoded images); a config's `resources:` overrides them. */
  resources: () => ({ cpus: 1, mem: "2G", time: "15m" }),
};
