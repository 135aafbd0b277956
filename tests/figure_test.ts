import assert from "node:assert/strict";
import { decode } from "fast-png";
import { pickPerClass } from "../stages/figure/select.ts";
import { figureContent } from "../stages/figure/content.ts";
import { figureSpec } from "../stages/figure/spec.ts";
import { renderFigure } from "../stages/figure/render.ts";
import { enlarge, toGray } from "../stages/figure/image.ts";
import type { EvaluationMetrics, ModelScores } from "../stages/evaluate/metrics.ts";
import { CLASS_NAMES } from "../stages/evaluate/classes.ts";
import {
  classMeans,
  PIXELS,
  syntheticImages,
  writeModel,
  writeShuffleOutput,
} from "./fixtures/report/synthetic.ts";
import { join } from "node:path";
import { Rng } from "../stages/lib/prng.ts";
import { readSplit } from "../stages/shuffle/outputs.ts";
import { meanImage } from "../stages/evaluate/baselines.ts";
import { kind as evaluateKind } from "../stages/evaluate/kind.ts";
import { run as runEvaluate } from "../stages/evaluate/run.ts";
import { kind as figureKind } from "../stages/figure/kind.ts";
import { run as runFigure } from "../stages/figure/run.ts";
import { assertSameOutputs, stageContext } from "./fixtures/report/context.ts";

Deno.test("figure select: one image of every class, in class order, same for the same seed", () => {
  const labels = syntheticImages(200, 3).labels;
  const picked = pickPerClass(labels, 2, 28);
  assert.equal(picked.length, 20);
  assert.deepEqual(Array.from(picked, (i) => labels[i]), CLASS_NAMES.flatMap((_, c) => [c, c]));
  assert.deepEqual(pickPerClass(labels, 2, 28), picked);
  assert.notDeepEqual(pickPerClass(labels, 2, 29), picked);
});

Deno.test("figure select: too few images of a class is an error naming the class", () => {
  const labels = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
  assert.throws(
    () => pickPerClass(labels, 2, 1),
    /images of class T-shirt\/top, fewer than images_per_class = 2/,
  );
});

Deno.test("figure image: gray mapping clamps and enlarging repeats pixels", () => {
  assert.deepEqual(Array.from(toGray([-10, 0, 5, 10, 20], 0, 10)), [0, 0, 128, 255, 255]);
  assert.deepEqual(Array.from(enlarge(new Uint8Array([1, 2, 3, 4]), 2, 2)), [
    1,
    1,
    2,
    2,
    1,
    1,
    2,
    2,
    3,
    3,
    4,
    4,
    3,
    3,
    4,
    4,
  ]);
});

function scores(components: number, testMse: number): ModelScores {
  return {
    components,
    latent_dim: 4,
    test_mse: testMse,
    per_class: {},
    usage: Array.from({ length: components }, (_, k) => 10 * (k + 1)),
    purity: 0.5,
    nmi: 0.5,
    majority_class: Array.from({ length: components }, (_, k) => k === 2 ? null : CLASS_NAMES[k]),
  };
}

/** A figure of synthetic test images: LGAE shows them dimmed, LLGAE shows them exactly. */
function syntheticFigure() {
  const { images, labels } = syntheticImages(40, 5);
  const picked = pickPerClass(labels, 1, 28);
  const chosen = (scale: number) =>
    Float32Array.from(
      { length: picked.length * PIXELS },
      (_, q) => scale * images[picked[Math.floor(q / PIXELS)] * PIXELS + (q % PIXELS)],
    );
  const evaluation: EvaluationMetrics = {
    models: { train_lgae: scores(1, 1300), train_llgae: scores(3, 800) },
    baselines: {
      mean: { test_mse: 4000, per_class: {}, latent_dim: 0 },
      pca: { test_mse: 1250, per_class: {}, latent_dim: 4 },
    },
    test_images: 40,
  };
  const history = (end: number) =>
    [1, 2, 3].map((epoch) => ({ epoch, test_mse: end + 300 / epoch, train_loss: end }));
  const train = (epochs: number, init: string) => ({
    test_mse: 0,
    init_test_mse: 5000,
    init,
    epochs,
    components: 1,
    latent_dim: 4,
    train_seconds: 1,
  });
  return figureContent({
    images,
    labels,
    picked,
    evaluation,
    splits: { train: 2000, val: 0, test: 40 },
    cell: 56,
    models: [
      {
        stage: "train_lgae",
        recon: chosen(0.5),
        mu: images.slice(0, PIXELS),
        history: history(1200),
        train: train(3, "data"),
      },
      {
        stage: "train_llgae",
        recon: chosen(1),
        mu: images.slice(0, 3 * PIXELS),
        history: history(700),
        train: train(3, "data"),
      },
    ],
  });
}

Deno.test("figure content: rows of originals and each model, means of the mixture only", () => {
  const content = syntheticFigure();
  assert.deepEqual(content.rows.map((r) => r.label), [
    "Original",
    "LGAE (K = 1)",
    "LLGAE (K = 3)",
  ]);
  assert.deepEqual(content.columns, [...CLASS_NAMES]);
  for (const row of content.rows) assert.equal(row.images.length, 10);
  // LLGAE reconstructs exactly, so its cells are the originals' bytes; LGAE's are dimmer.
  assert.deepEqual(content.rows[2].images, content.rows[0].images);
  assert.notDeepEqual(content.rows[1].images, content.rows[0].images);
  assert.equal(content.means.length, 1);
  assert.deepEqual(content.means[0].cells.map((c) => [c.label, c.caption]), [
    ["k=1 (10)", "T-shirt/top"],
    ["k=2 (20)", "Trouser"],
    ["k=3 (30)", "unused"],
  ]);
  // One curve panel per family; each curve starts at epoch 0 (the initial parameters).
  assert.deepEqual(content.curves.map((p) => p.points.map((q) => q.epoch)), [[0, 1, 2, 3], [
    0,
    1,
    2,
    3,
  ]]);
  assert.deepEqual(content.curves[0].references.map((r) => r.value), [1250]);
  assert.deepEqual(content.curves[1].marks.map((m) => [m.epoch, m.value]), [[540, 768.06]]);
  // A subset of the data says so instead of being compared with the note's number silently.
  assert.match(
    content.subtitle[2],
    /trained on 2,000 .* for 3 epochs, scored on 40 test images: a subset/,
  );
});

Deno.test("figure render: PNG decodes at the SVG size × scale, SVG holds the titles, text is drawn", async () => {
  const { svg, png } = await renderFigure(figureSpec(syntheticFigure()), 2);
  const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
  const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)![1]);
  const image = decode(png);
  assert.deepEqual([image.width, image.height], [2 * width, 2 * height]);
  assert.match(svg, /LGAE vs LLGAE on Fashion-MNIST \(test set\)/);
  assert.match(svg, /LLGAE: test MSE per epoch/);
  assert.match(svg, /font-family="DejaVu Sans"/);
  assert.match(svg, /<image [^>]*href="data:image\/png;base64,/);
  // The title sits alone in the top band: with the bundled font it leaves dark pixels there.
  const channels = image.channels;
  let dark = 0;
  for (let y = 0; y < 60; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.data[(y * image.width + x) * channels] < 100) dark++;
    }
  }
  assert.ok(dark > 500, `only ${dark} dark pixels in the title band: was the text rendered?`);
});

/** Synthetic shuffle output, an LGAE (μ = mean image) and an LLGAE (μ_k = class means, W
 * random), and the evaluate stage's metrics.json for them. */
async function figureFixture(root: string) {
  const data = join(root, "shuffle");
  await Deno.mkdir(data);
  await writeShuffleOutput(data, 200, 60);
  const train = await readSplit(data, "train");
  const rng = new Rng(7);
  const models = [];
  for (
    const [stage, mu] of [
      ["train_lgae", meanImage(train.images, train.n, PIXELS)],
      ["train_llgae", classMeans(train.images, train.labels)],
    ] as const
  ) {
    const dir = join(root, stage);
    await Deno.mkdir(dir);
    const W = Float32Array.from({ length: mu.length * 2 }, () => 0.05 * (rng.float() - 0.5));
    await writeModel(dir, mu, W, 2);
    models.push({ stage: stage as string, dir });
  }
  const inputs = { data: [{ stage: "shuffle", dir: data }], models };
  const evaluation = await stageContext(evaluateKind, { pca_dims: 2 }, inputs);
  await runEvaluate(evaluation);
  return {
    inputs: { ...inputs, evaluation: [{ stage: "evaluate", dir: evaluation.outDir }] },
    evaluation,
  };
}

Deno.test("figure run: writes a decodable PNG and the same figure as SVG, byte-identical on rerun", async () => {
  const root = await Deno.makeTempDir({ prefix: "figure-test-" });
  const { inputs, evaluation } = await figureFixture(root);
  const first = await stageContext(figureKind, { png_scale: 1 }, inputs);
  const second = await stageContext(figureKind, { png_scale: 1 }, inputs);
  try {
    await runFigure(first);
    await runFigure(second);
    const svg = await Deno.readTextFile(join(first.outDir, "figure.svg"));
    const png = await Deno.readFile(join(first.outDir, "figure.png"));
    const image = decode(png);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    const height = Number(/<svg[^>]* height="(\d+)"/.exec(svg)![1]);
    assert.deepEqual([image.width, image.height], [width, height]);
    assert.ok(width > 900 && height > 700, `figure is only ${width}×${height}`);
    assert.match(svg, /LGAE vs LLGAE on Fashion-MNIST \(test set\)/);
    assert.match(svg, /LLGAE \(K = 10\)/);
    assert.match(svg, /the note: 768\.06 at epoch 540/);
    // 10 originals + 10 per model + 10 component means.
    assert.equal(svg.match(/<image /g)?.length, 40);
    await assertSameOutputs(figureKind, first, second);
  } finally {
    await first.cleanup();
    await second.cleanup();
    await evaluation.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("figure run: a model the evaluation did not score is an error naming it", async () => {
  const root = await Deno.makeTempDir({ prefix: "figure-test-" });
  const { inputs, evaluation } = await figureFixture(root);
  const renamed = { ...inputs, models: [{ stage: "train_other", dir: inputs.models[1].dir }] };
  const ctx = await stageContext(figureKind, {}, renamed);
  try {
    await assert.rejects(
      runFigure(ctx),
      /model train_other has K=10 but the evaluation scored no such model/,
    );
  } finally {
    await ctx.cleanup();
    await evaluation.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});
