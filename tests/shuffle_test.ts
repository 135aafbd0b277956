/**
 * Tests of the `shuffle` stage kind on generated idx fixtures (seeded order, split shapes,
 * centring, meta.json, bad params) and, when the Debian package is installed, on the real
 * Fashion-MNIST files obtained by the `download` stage.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEBIAN_MIRROR } from "../stages/download/fashion_mnist.ts";
import { PIXELS } from "../stages/download/idx.ts";
import { kind as downloadKind } from "../stages/download/kind.ts";
import { run as download } from "../stages/download/run.ts";
import { encodeNpy, readNpyFloat32, readNpyUint8 } from "../stages/lib/npy.ts";
import { sha256File } from "../common/sha256.ts";
import { kind } from "../stages/shuffle/kind.ts";
import { run } from "../stages/shuffle/run.ts";
import { writeFloat32RowsNpy } from "../stages/shuffle/npy_rows.ts";
import { Rng } from "../stages/lib/prng.ts";
import { sha256Hex } from "../common/sha256.ts";
import { type ReportTestContext, stageContext } from "./fixtures/report/context.ts";
import { makeDataset, writeMirror } from "./fixtures/data/idx_fixtures.ts";
import type { ShuffleParams } from "../stages/shuffle/kind.ts";

const hasRealData = await Deno.stat(DEBIAN_MIRROR).then(() => true, () => false);
const TRAIN = 50;
const TEST = 20;

/**
 * A raw dir (as `download` writes it) of a fixture dataset whose training image i carries its
 * index in pixels 0 and 2 (i mod 256, i div 256) with pixel 1 = 0, so a centred row still
 * tells which image it is: row[0] − row[1] and row[2] − row[1].
 */
async function rawDir(): Promise<{ dir: string; pixels: Uint8Array }> {
  const dataset = makeDataset(TRAIN, TEST);
  const images = dataset.bytes.get("train-images-idx3-ubyte")!;
  const pixels = images.subarray(16);
  for (let i = 0; i < TRAIN; i++) {
    pixels.set([i & 255, 0, i >> 8], i * PIXELS);
  }
  const dir = await writeMirror(
    await Deno.makeTempDir({ prefix: "shuffle-raw-" }),
    dataset.bytes,
    false,
  );
  return { dir, pixels };
}

/** The original index of each centred training row (see `rawDir`). */
function rowIds(images: Float32Array): number[] {
  const ids = [];
  for (let at = 0; at < images.length; at += PIXELS) {
    ids.push(
      Math.round(images[at] - images[at + 1]) + 256 * Math.round(images[at + 2] - images[at + 1]),
    );
  }
  return ids;
}

/** Runs shuffle with `params` on a fresh fixture raw dir; hands the context to `check`. */
async function shuffled(
  params: Partial<ShuffleParams>,
  check: (ctx: ReportTestContext<ShuffleParams>, pixels: Uint8Array) => Promise<void>,
): Promise<void> {
  const { dir, pixels } = await rawDir();
  const ctx = await stageContext(kind, params, { raw: [{ stage: "download", dir }] });
  try {
    await run(ctx);
    await check(ctx, pixels);
  } finally {
    await ctx.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

/** meta.json of a finished run. */
async function readMeta(ctx: ReportTestContext<ShuffleParams>) {
  return JSON.parse(await Deno.readTextFile(join(ctx.outDir, "meta.json")));
}

Deno.test("shuffle: same seed gives identical output digests in two runs", async () => {
  const digests: string[] = [];
  for (let i = 0; i < 2; i++) {
    await shuffled({ seed: 28, val_size: 5 }, async (ctx) => {
      const meta = await readMeta(ctx);
      for (const name of Object.keys(meta.arrays)) {
        assert.equal(await sha256File(join(ctx.outDir, name)), meta.arrays[name].sha256, name);
      }
      digests.push(JSON.stringify(meta.arrays));
    });
  }
  assert.equal(digests[0], digests[1]);
});

Deno.test("shuffle: a different seed gives a different order of the same images", async () => {
  const orders: number[][] = [];
  for (const seed of [28, 29]) {
    await shuffled({ seed }, async (ctx) => {
      orders.push(rowIds((await readNpyFloat32(join(ctx.outDir, "train_images.npy"))).data));
    });
  }
  assert.notDeepEqual(orders[0], orders[1]);
  const all = Array.from({ length: TRAIN }, (_, i) => i);
  for (const order of orders) assert.deepEqual([...order].sort((a, b) => a - b), all);
});

Deno.test("shuffle: val_size and limit give disjoint splits of the right shapes", async () => {
  await shuffled({ seed: 3, val_size: 7, limit: 10, test_limit: 4 }, async (ctx) => {
    const shape = async (name: string) =>
      (name.endsWith("labels.npy")
        ? await readNpyUint8(join(ctx.outDir, name))
        : await readNpyFloat32(join(ctx.outDir, name))).shape;
    assert.deepEqual(await shape("train_images.npy"), [10, PIXELS]);
    assert.deepEqual(await shape("train_labels.npy"), [10]);
    assert.deepEqual(await shape("val_images.npy"), [7, PIXELS]);
    assert.deepEqual(await shape("val_labels.npy"), [7]);
    assert.deepEqual(await shape("test_images.npy"), [4, PIXELS]);
    assert.deepEqual(await shape("test_labels.npy"), [4]);
    const train = rowIds((await readNpyFloat32(join(ctx.outDir, "train_images.npy"))).data);
    const val = rowIds((await readNpyFloat32(join(ctx.outDir, "val_images.npy"))).data);
    assert.equal(new Set([...train, ...val]).size, 17);
    // Labels stay with their images: the fixture's label of image i is i mod 10.
    const labels = (await readNpyUint8(join(ctx.outDir, "train_labels.npy"))).data;
    assert.deepEqual([...labels], train.map((i) => i % 10));
    const meta = await readMeta(ctx);
    assert.deepEqual(meta.arrays["val_images.npy"].shape, [7, PIXELS]);
    assert.equal(meta.arrays["val_images.npy"].dtype, "float32");
    assert.equal(meta.arrays["val_labels.npy"].dtype, "uint8");
    assert.equal(meta.seed, 3);
    assert.match(meta.preprocessing, /seeded with 3; the first 7 permuted images .* the next 10/);
  });
});

Deno.test("shuffle: limit without val_size keeps the first images of the full permutation", async () => {
  const orders: number[][] = [];
  for (const limit of [undefined, 12]) {
    await shuffled({ seed: 28, limit }, async (ctx) => {
      orders.push(rowIds((await readNpyFloat32(join(ctx.outDir, "train_images.npy"))).data));
      const val = await readNpyFloat32(join(ctx.outDir, "val_images.npy"));
      assert.deepEqual(val.shape, [0, PIXELS]);
    });
  }
  assert.deepEqual(orders[1], orders[0].slice(0, 12));
});

Deno.test("shuffle: each image becomes float32 pixels minus its own mean", async () => {
  await shuffled({ seed: 5 }, async (ctx, pixels) => {
    const images = (await readNpyFloat32(join(ctx.outDir, "train_images.npy"))).data;
    const ids = rowIds(images);
    for (let r = 0; r < ids.length; r++) {
      const original = pixels.subarray(ids[r] * PIXELS, (ids[r] + 1) * PIXELS);
      const mean = original.reduce((a, b) => a + b, 0) / PIXELS;
      const row = images.subarray(r * PIXELS, (r + 1) * PIXELS);
      for (let j = 0; j < PIXELS; j++) assert.equal(row[j], Math.fround(original[j] - mean));
    }
  });
});

Deno.test("shuffle: the streaming .npy writer writes the bytes of encodeNpy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "npy-rows-" });
  try {
    const rng = new Rng(7);
    for (
      const [rows, cols, blockRows] of [[0, 784, 4], [1, 3, 4], [10, 784, 4], [12, 5, 4], [
        7,
        2,
        100,
      ]]
    ) {
      const data = Float32Array.from({ length: rows * cols }, () => rng.float() * 255 - 128);
      const path = join(dir, `a_${rows}_${cols}.npy`);
      const digest = await writeFloat32RowsNpy(path, rows, cols, (block, first) => {
        block.set(data.subarray(first * cols, first * cols + block.length));
      }, blockRows);
      const expected = encodeNpy({ data, shape: [rows, cols] });
      assert.deepEqual(await Deno.readFile(path), expected, `[${rows}, ${cols}]`);
      assert.equal(digest, sha256Hex(expected));
    }
    assert.deepEqual([...Deno.readDirSync(dir)].length, 5); // no temp files left behind
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shuffle: sizes that do not fit fail naming the param", async () => {
  for (
    const [params, pattern] of [
      [{ val_size: TRAIN }, /val_size 50 leaves no training images/],
      [
        { val_size: 10, limit: 41 },
        /limit 41 exceeds the 40 training images left after val_size 10/,
      ],
      [{ test_limit: TEST + 1 }, /test_limit 21 exceeds the 20 test images/],
    ] as const
  ) {
    const { dir } = await rawDir();
    const ctx = await stageContext(kind, params, { raw: [{ stage: "download", dir }] });
    try {
      await assert.rejects(run(ctx), pattern);
    } finally {
      await ctx.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("shuffle kind: schema applies the note's seed and rejects bad params", () => {
  assert.deepEqual(kind.params.parse({}), { seed: 28, val_size: 0 });
  for (
    const bad of [{ seed: -1 }, { seed: 1.5 }, { seed: 2 ** 31 }, { val_size: -1 }, { limit: 0 }, {
      test_limit: 2.5,
    }, { shuffle: true }]
  ) {
    assert.equal(kind.params.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(kind.outputs(kind.params.parse({})).length, 7);
});

Deno.test({
  name: "shuffle real data: 60000 and 10000 centred images, 6000 training images per class",
  ignore: !hasRealData,
  async fn() {
    const raw = await stageContext(downloadKind, { sources: [DEBIAN_MIRROR] }, {});
    const ctx = await stageContext(kind, { seed: 28 }, {
      raw: [{ stage: "download", dir: raw.outDir }],
    });
    try {
      await download(raw);
      await run(ctx);
      const train = await readNpyFloat32(join(ctx.outDir, "train_images.npy"));
      const test = await readNpyFloat32(join(ctx.outDir, "test_images.npy"));
      assert.deepEqual(train.shape, [60000, PIXELS]);
      assert.deepEqual(test.shape, [10000, PIXELS]);
      const labels = (await readNpyUint8(join(ctx.outDir, "train_labels.npy"))).data;
      const counts = new Array(10).fill(0);
      for (const label of labels) counts[label]++;
      assert.deepEqual(counts, new Array(10).fill(6000));
      for (const images of [train.data, test.data]) {
        let worst = 0;
        for (let at = 0; at < images.length; at += PIXELS) {
          let sum = 0;
          for (let j = 0; j < PIXELS; j++) sum += images[at + j];
          worst = Math.max(worst, Math.abs(sum / PIXELS));
        }
        assert.ok(worst < 1e-4, `largest |row mean| ${worst}`);
      }
      assert.deepEqual((await readMeta(ctx)).class_counts.train, counts);
    } finally {
      await raw.cleanup();
      await ctx.cleanup();
    }
  },
});

if (!hasRealData) {
  console.log(
    `shuffle real-data test skipped: ${DEBIAN_MIRROR} is absent (apt-get install dataset-fashion-mnist)`,
  );
}
