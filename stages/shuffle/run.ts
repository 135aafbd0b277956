/**
 * Runs the `shuffle` stage: reads the idx files of the `raw` input, splits and centres the
 * images, and writes the `.npy` arrays and `meta.json` (shapes, dtypes, digests, seed, and
 * what the preprocessing is).
 *
 * @module
 */
import { join } from "node:path";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { encodeNpy } from "../lib/npy.ts";
import { sha256Hex } from "../../common/sha256.ts";
import { FASHION_MNIST } from "../download/fashion_mnist.ts";
import { CLASSES, parseImages, parseLabels, PIXELS } from "../download/idx.ts";
import { checkSameCount } from "../download/verify.ts";
import { centreRows, gatherLabels } from "./centre.ts";
import { writeFloat32RowsNpy } from "./npy_rows.ts";
import type { ShuffleParams } from "./kind.ts";
import { type ShuffleMeta, splitFiles } from "./outputs.ts";
import { planSplit } from "./split.ts";

/** How many images of each class `labels` holds. */
function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(CLASSES).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/** The meta.json description of what the arrays hold. */
function describe(params: ShuffleParams, sizes: Record<string, number>): string {
  return `Fashion-MNIST. The ${sizes.all} training images are permuted by a Fisher-Yates ` +
    `shuffle driven by xoroshiro128+ (pure-rand) seeded with ${params.seed}; the first ` +
    `${sizes.val} permuted images form the validation split and the next ${sizes.train} the ` +
    `training split. The test split is the first ${sizes.test} images of t10k in file order. ` +
    `Every image is a row of ${PIXELS} float32 values: the raw pixel values on the 0-255 scale ` +
    "(not rescaled) minus the image's own mean over its pixels (mean accumulated in float64), " +
    "so each row has mean 0. Labels are uint8 class indices 0-9, row-aligned with the images. " +
    "Reconstruction errors on these arrays (mean squared error per pixel) are on this scale.";
}

/** The parsed images and labels of one split of the raw idx files, and each file's sha256. */
async function readRaw(raw: string, split: "train" | "t10k") {
  const [imagesFile, labelsFile] = (["images", "labels"] as const).map((role) =>
    FASHION_MNIST.find((file) => file.split === split && file.role === role)!.name
  );
  const imageBytes = await Deno.readFile(join(raw, imagesFile));
  const labelBytes = await Deno.readFile(join(raw, labelsFile));
  const { count, pixels } = parseImages(imageBytes, join(raw, imagesFile));
  const labels = parseLabels(labelBytes, join(raw, labelsFile));
  checkSameCount(count, labels.length, join(raw, imagesFile), join(raw, labelsFile));
  const digests = { [imagesFile]: sha256Hex(imageBytes), [labelsFile]: sha256Hex(labelBytes) };
  return { count, pixels, labels, digests };
}

/** The stage's work. */
export async function run(ctx: StageContext<ShuffleParams>): Promise<void> {
  const train = await readRaw(ctx.input("raw"), "train");
  const test = await readRaw(ctx.input("raw"), "t10k");
  const { params } = ctx;
  if (params.test_limit !== undefined && params.test_limit > test.count) {
    throw new Error(
      `shuffle: test_limit ${params.test_limit} exceeds the ${test.count} test images; lower it`,
    );
  }
  const split = planSplit(train.count, params);
  const testRows = Int32Array.from({ length: params.test_limit ?? test.count }, (_, i) => i);
  const splits = [
    ["train", train, split.train],
    ["val", train, split.val],
    ["test", test, testRows],
  ] as const;
  const arrays: ShuffleMeta["arrays"] = {};
  const classCountsBySplit: ShuffleMeta["class_counts"] = {};
  for (const [done, [name, source, rows]] of splits.entries()) {
    const { images, labels } = splitFiles(name);
    arrays[images] = {
      shape: [rows.length, PIXELS],
      dtype: "float32",
      sha256: await writeFloat32RowsNpy(
        join(ctx.outDir, images),
        rows.length,
        PIXELS,
        (block, first) => centreRows(source.pixels, rows, first, block),
      ),
    };
    const labelData = gatherLabels(source.labels, rows);
    const encoded = encodeNpy({ data: labelData, shape: [rows.length] });
    arrays[labels] = { shape: [rows.length], dtype: "uint8", sha256: sha256Hex(encoded) };
    await writeFileAtomic(join(ctx.outDir, labels), encoded);
    classCountsBySplit[name] = classCounts(labelData);
    ctx.progress({
      done: done + 1,
      total: splits.length,
      message: `wrote ${name} (${rows.length} images)`,
    });
  }

  const sizes = {
    all: train.count,
    train: split.train.length,
    val: split.val.length,
    test: testRows.length,
  };
  const meta: ShuffleMeta = {
    dataset: "Fashion-MNIST",
    seed: params.seed,
    val_size: params.val_size,
    limit: params.limit ?? null,
    test_limit: params.test_limit ?? null,
    preprocessing: describe(params, sizes),
    arrays,
    class_counts: classCountsBySplit,
    sources: { ...train.digests, ...test.digests },
  };
  await writeFileAtomic(join(ctx.outDir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  ctx.log(
    `shuffle: seed ${params.seed}: ${sizes.train} train, ${sizes.val} val, ${sizes.test} test images`,
  );
}
