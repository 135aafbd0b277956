import assert from "node:assert/strict";
import { contingency, majorityClass, nmi, purity, usage } from "../stages/evaluate/agreement.ts";
import { meanImage, projectionErrors } from "../stages/evaluate/baselines.ts";
import { summarizeErrors } from "../stages/evaluate/scores.ts";
import { join } from "node:path";
import { kind as evaluateKind } from "../stages/evaluate/kind.ts";
import { run as runEvaluate } from "../stages/evaluate/run.ts";
import { readEvaluation } from "../stages/evaluate/metrics.ts";
import { readSplit } from "../stages/shuffle/outputs.ts";
import { CLASS_NAMES } from "../stages/evaluate/classes.ts";
import { writeNpy } from "../stages/lib/npy.ts";
import { stageContext } from "./fixtures/report/context.ts";
import { classMeans, PIXELS, writeModel, writeShuffleOutput } from "./fixtures/report/synthetic.ts";

function assertClose(actual: number, expected: number, tol = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);
}

Deno.test("agreement: a choice equal to the label has purity 1 and NMI 1", () => {
  const table = contingency(
    new Int32Array([0, 0, 1, 1, 2]),
    new Uint8Array([3, 3, 7, 7, 1]),
    3,
    10,
  );
  assert.equal(purity(table), 1);
  assertClose(nmi(table), 1);
  assert.deepEqual(usage(table), [2, 2, 1]);
  assert.deepEqual(majorityClass(table), [3, 7, 1]);
});

Deno.test("agreement: a choice independent of the label has NMI 0 and purity 1/2", () => {
  const table = contingency(new Int32Array([0, 0, 1, 1]), new Uint8Array([0, 1, 0, 1]), 2, 2);
  assert.equal(purity(table), 0.5);
  assertClose(nmi(table), 0);
});

Deno.test("agreement: NMI and purity match a hand-computed 2×2 example", () => {
  // counts: k0 = {c0: 2, c1: 1}, k1 = {c1: 1}; p(k) = (3/4, 1/4), p(c) = (1/2, 1/2)
  const table = contingency(new Int32Array([0, 0, 0, 1]), new Uint8Array([0, 0, 1, 1]), 2, 2);
  const mutual = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
  const hk = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const hc = Math.log(2);
  assertClose(nmi(table), mutual / ((hk + hc) / 2)); // ≈ 0.3437
  assertClose(nmi(table), 0.343712, 1e-6);
  assert.equal(purity(table), 0.75);
});

Deno.test("agreement: one component (LGAE) gives NMI 0 and the largest class share as purity", () => {
  const table = contingency(new Int32Array(4), new Uint8Array([0, 1, 1, 2]), 1, 3);
  assertClose(nmi(table), 0);
  assert.equal(purity(table), 0.5);
  assert.deepEqual(majorityClass(table), [1]);
});

Deno.test("agreement: an unused component has no majority class", () => {
  const table = contingency(new Int32Array([1, 1]), new Uint8Array([4, 4]), 3, 10);
  assert.deepEqual(majorityClass(table), [null, 4, null]);
});

Deno.test("agreement: a choice outside 0..K-1 is an error naming the index", () => {
  assert.throws(
    () => contingency(new Int32Array([0, 5]), new Uint8Array([0, 0]), 2, 10),
    /choice 5 at index 1/,
  );
});

Deno.test("baselines: projection error matches a hand-computed 2-pixel example", () => {
  const x = new Float32Array([3, 4]);
  const mean = new Float32Array([0, 0]);
  // Mean only: (3² + 4²) / 2 pixels.
  assert.deepEqual(Array.from(projectionErrors(x, 1, 2, mean, new Float32Array(0), 0)), [12.5]);
  // Projection on the first axis keeps 3 and loses 4: 4² / 2.
  assert.deepEqual(Array.from(projectionErrors(x, 1, 2, mean, new Float32Array([1, 0]), 1)), [8]);
});

Deno.test("baselines: a full-rank orthonormal basis reconstructs exactly", () => {
  const x = new Float32Array([1, 2, 3, -4, 5, 6]);
  const mean = meanImage(x, 2, 3);
  assert.deepEqual(Array.from(mean), [-1.5, 3.5, 4.5]);
  const s = Math.SQRT1_2;
  const basis = new Float32Array([s, s, 0, s, -s, 0, 0, 0, 1]);
  for (const e of projectionErrors(x, 2, 3, mean, basis, 3)) assertClose(e, 0, 1e-10);
});

Deno.test("scores: test MSE is the mean over images and per-class MSE is keyed by class name", () => {
  const summary = summarizeErrors([1, 3, 10], new Uint8Array([0, 0, 9]));
  assertClose(summary.test_mse, 14 / 3);
  assert.deepEqual(summary.per_class, { "T-shirt/top": 2, "Ankle boot": 10 });
});

/** A shuffle output (200 train, 100 test) and two models: LGAE whose μ is the training mean
 * image and W = 0 (so it reconstructs every image as that mean), and an LLGAE whose ten μ_k
 * are the training class means and W = 0 (so it chooses the nearest class mean). */
async function evaluateFixture(root: string) {
  const data = join(root, "shuffle");
  await Deno.mkdir(data);
  await writeShuffleOutput(data, 200, 100);
  const train = await readSplit(data, "train");
  const lgae = join(root, "train_lgae");
  const llgae = join(root, "train_llgae");
  await Deno.mkdir(lgae);
  await Deno.mkdir(llgae);
  await writeModel(lgae, meanImage(train.images, train.n, PIXELS), new Float32Array(PIXELS * 4), 4);
  await writeModel(
    llgae,
    classMeans(train.images, train.labels),
    new Float32Array(10 * PIXELS * 4),
    4,
  );
  return {
    data: [{ stage: "shuffle", dir: data }],
    models: [{ stage: "train_lgae", dir: lgae }, { stage: "train_llgae", dir: llgae }],
  };
}

Deno.test("evaluate run: scores models and baselines on the test set into metrics.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "evaluate-test-" });
  const ctx = await stageContext(evaluateKind, { pca_dims: 5 }, await evaluateFixture(root));
  try {
    await runEvaluate(ctx);
    const metrics = await readEvaluation(ctx.outDir);
    const { train_lgae: lgae, train_llgae: llgae } = metrics.models;
    assert.equal(metrics.test_images, 100);
    // An LGAE that always outputs the training mean image scores exactly the mean baseline.
    assertClose(lgae.test_mse, metrics.baselines.mean.test_mse, 1e-3 * lgae.test_mse);
    assert.deepEqual(lgae.usage, [100]);
    assertClose(lgae.nmi, 0);
    // Choosing the nearest class mean recovers the class of these well-separated shapes.
    assert.deepEqual(llgae.usage, new Array(10).fill(10));
    assert.equal(llgae.purity, 1);
    assertClose(llgae.nmi, 1, 1e-12);
    assert.deepEqual(llgae.majority_class, [...CLASS_NAMES]);
    assert.ok(llgae.test_mse < lgae.test_mse);
    assert.deepEqual(Object.keys(llgae.per_class), [...CLASS_NAMES]);
    // PCA with 5 directions beats the mean image; everything is finite.
    assert.ok(metrics.baselines.pca.test_mse < metrics.baselines.mean.test_mse);
    assert.equal(metrics.baselines.pca.latent_dim, 5);
    const numbers = JSON.stringify(metrics).match(/-?\d[\d.e+-]*|null|NaN|Infinity/g)!;
    assert.ok(!numbers.some((n) => n === "NaN" || n === "Infinity"));
    assert.ok(ctx.logs.some((line) => line.includes("train_llgae: test MSE")));
  } finally {
    await ctx.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate run: the same inputs give a byte-identical metrics.json", async () => {
  const root = await Deno.makeTempDir({ prefix: "evaluate-test-" });
  const inputs = await evaluateFixture(root);
  const first = await stageContext(evaluateKind, { pca_dims: 3 }, inputs);
  const second = await stageContext(evaluateKind, { pca_dims: 3 }, inputs);
  try {
    await runEvaluate(first);
    await runEvaluate(second);
    assert.deepEqual(
      await Deno.readFile(join(first.outDir, "metrics.json")),
      await Deno.readFile(join(second.outDir, "metrics.json")),
    );
  } finally {
    await first.cleanup();
    await second.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate run: labels that do not match the images are an error naming the file", async () => {
  const root = await Deno.makeTempDir({ prefix: "evaluate-test-" });
  const inputs = await evaluateFixture(root);
  const labels = join(inputs.data[0].dir, "test_labels.npy");
  await writeNpy(labels, { data: new Uint8Array(99), shape: [99] });
  const ctx = await stageContext(evaluateKind, {}, inputs);
  try {
    await assert.rejects(
      runEvaluate(ctx),
      (e: Error) => e.message.startsWith(`${labels}: expected shape [100]`),
    );
  } finally {
    await ctx.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate kind: unknown params are rejected", () => {
  assert.equal(evaluateKind.params.safeParse({ pca_dim: 20 }).success, false);
  assert.deepEqual(evaluateKind.params.parse({}), { backend: "auto", pca_dims: 20, pca_seed: 28 });
});
