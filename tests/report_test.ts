import assert from "node:assert/strict";
import { join } from "node:path";
import { decode, encode } from "fast-png";
import { kind } from "../stages/report/kind.ts";
import { run } from "../stages/report/run.ts";
import { toHtml, toMarkdown } from "../stages/report/document.ts";
import { CLASS_NAMES } from "../stages/evaluate/classes.ts";
import type { EvaluationMetrics } from "../stages/evaluate/metrics.ts";
import type { Provenance } from "../pipeline/stage_kind.ts";
import { assertSameOutputs, stageContext } from "./fixtures/report/context.ts";

const perClass = (base: number) =>
  Object.fromEntries(CLASS_NAMES.map((name, c) => [name, base + c]));

const EVALUATION: EvaluationMetrics = {
  models: {
    train_lgae: {
      components: 1,
      latent_dim: 20,
      test_mse: 1212.345,
      per_class: perClass(1200),
      usage: [10000],
      purity: 0.1,
      nmi: 0,
      majority_class: ["Trouser"],
    },
    train_llgae: {
      components: 3,
      latent_dim: 20,
      test_mse: 790.5,
      per_class: perClass(700),
      usage: [5000, 5000, 0],
      purity: 0.4567,
      nmi: 0.3333,
      majority_class: ["Bag", "Sneaker", null],
    },
  },
  baselines: {
    mean: { test_mse: 4100, per_class: perClass(4000), latent_dim: 0 },
    pca: { test_mse: 1207.9, per_class: perClass(1100), latent_dim: 20 },
  },
  test_images: 10000,
};

const PROVENANCE: Provenance = {
  config: { path: "configs/paper.yaml", digest: "c0ffee".repeat(10) + "abcd" },
  versions: { deno: "2.9.6", "@tensorflow/tfjs-core": "4.22.0" },
  stages: {
    shuffle: {
      uses: "shuffle",
      key: "k".repeat(64),
      params: { seed: 28 },
      codeDigest: "d".repeat(64),
      runtime: {},
      outputs: { "test_images.npy": "e".repeat(64) },
    },
    train_lgae: {
      uses: "train",
      key: "a".repeat(64),
      params: {
        components: 1,
        latent_dim: 20,
        steps: 5,
        beta: 0.01,
        latent_decay: 1,
        init: "data",
      },
      codeDigest: "b".repeat(64),
      runtime: { backend: "wasm" },
    },
    train_llgae: {
      uses: "train",
      key: "1".repeat(64),
      params: {
        components: 3,
        latent_dim: 20,
        steps: 5,
        beta: 0.01,
        latent_decay: 0,
        init: "random",
      },
      codeDigest: "2".repeat(64),
      runtime: { backend: "wasm" },
    },
  },
};

async function writeInputs(root: string) {
  const evaluation = join(root, "evaluate");
  const figure = join(root, "figure");
  await Deno.mkdir(evaluation);
  await Deno.mkdir(figure);
  await Deno.writeTextFile(join(evaluation, "metrics.json"), JSON.stringify(EVALUATION));
  const gray = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
  await Deno.writeFile(
    join(figure, "figure.png"),
    encode({ width: 4, height: 3, data: gray, channels: 1 }),
  );
  const models: { stage: string; dir: string }[] = [];
  for (const [stage, seconds] of [["train_lgae", 61.5], ["train_llgae", 754]] as const) {
    const dir = join(root, stage);
    await Deno.mkdir(dir);
    const s = EVALUATION.models[stage];
    const init = stage === "train_lgae" ? "data" : "random";
    const metrics = {
      test_mse: s.test_mse + 1,
      train_loss: 1,
      init,
      init_test_mse: init === "random" ? 7048.6 : 1300,
      epochs: 7,
      components: s.components,
      latent_dim: 20,
      train_seconds: seconds,
    };
    await Deno.writeTextFile(join(dir, "metrics.json"), JSON.stringify(metrics));
    const history = Array.from({ length: 7 }, (_, e) => ({
      epoch: e + 1,
      train_loss: 1,
      test_mse: s.test_mse + 7 - e,
      usage: s.components === 1 ? [10000] : [5000, 5000 - 100 * e, 100 * e].slice(0, s.components),
    }));
    await Deno.writeTextFile(
      join(dir, "history.jsonl"),
      history.map((h) => JSON.stringify(h)).join("\n") + "\n",
    );
    models.push({ stage, dir });
  }
  return {
    evaluation: [{ stage: "evaluate", dir: evaluation }],
    figure: [{ stage: "figure", dir: figure }],
    models,
  };
}

Deno.test("report: writes md and self-contained html with the results beside the note's 768", async () => {
  const root = await Deno.makeTempDir({ prefix: "report-test-" });
  const ctx = await stageContext(kind, {}, await writeInputs(root), PROVENANCE);
  try {
    await run(ctx);
    const md = await Deno.readTextFile(join(ctx.outDir, "report.md"));
    const html = await Deno.readTextFile(join(ctx.outDir, "report.html"));
    // Results rows: model, K, E, T, β, init, epochs, ours, published, train time.
    assert.match(
      md,
      /\| LLGAE \(K = 3\) \(`train_llgae`\) \| 3 \| 20 \| 5 \| 0\.01 \| 0 \| random \| 7 \| 790\.50 \| 768\.06 \(the note, epoch 540\) \| 12\.6 min \|/,
    );
    assert.match(
      md,
      /\| LGAE \(K = 1\) \(`train_lgae`\) \| 1 \| 20 \| 5 \| 0\.01 \| 1 \| data \| 7 \| 1212\.35 \| — \(PCA: 1207\.90\) \| 61\.5 s \|/,
    );
    assert.match(
      md,
      /\| PCA \(closed form\) \| — \| 20 \| — \| — \| — \| — \| — \| 1207\.90 \| — \| — \|/,
    );
    // Every number's origin, the train time defined.
    assert.match(md, /- \*\*train time\*\*: wall-clock time of the training epochs/);
    assert.match(md, /closed form on the same data/);
    // Curves at the milestone epochs (0 = initial parameters) and usage per epoch.
    assert.match(md, /\| model \| init \| epoch 0 \| epoch 1 \| epoch 7 \|/);
    assert.match(
      md,
      /\| LLGAE \(K = 3\) \(`train_llgae`\) \| random \| 7048\.60 \| 797\.50 \| 791\.50 \|/,
    );
    assert.match(md, /\| `train_llgae` \| 7 \| 3 of 3 \| 5000, 4400, 600 \|/);
    assert.match(md, /\| `train_llgae` \| 1 \| 2 of 3 \| 5000, 5000, 0 \|/);
    // Params as key = value lines in pipeline order; versions folded to direct dependencies.
    assert.ok(
      md.includes("shuffle (shuffle)\n  seed = 28\n\ntrain_lgae (train)\n  components = 1"),
    );
    assert.match(md, /<details>\n<summary>All 2 resolved packages/);
    assert.match(
      md,
      /\| model \| K \| E \| T \| β \| λ \| init \| epochs \| test MSE \(ours\) \| published \| train time \|/,
    );
    assert.match(md, /\| Ankle boot \| 1209\.00 \| 709\.00 \| 4009\.00 \| 1109\.00 \|/);
    assert.match(
      md,
      /\| `train_llgae` \| 3 \| 0\.457 \| 0\.333 \| 5000, 5000, 0 \| Bag, Sneaker, unused \|/,
    );
    assert.match(md, /!\[Figure\]\(figure\.png\)/);
    assert.match(md, /configs\/paper\.yaml/);
    assert.match(md, /\| `shuffle` \| test_images\.npy \| `e{64}` \|/);
    // Self-contained: the figure is inlined and nothing is fetched.
    assert.match(html, /<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
    assert.doesNotMatch(html, /(src|href)="(https?:|\/\/)/);
    assert.match(html, /<td>LLGAE \(K = 3\) \(<code>train_llgae<\/code>\)<\/td>/);
    assert.match(html, /<details>\n<summary>All 2 resolved packages/);
    const copied = decode(await Deno.readFile(join(ctx.outDir, "figure.png")));
    assert.deepEqual([copied.width, copied.height], [4, 3]);
  } finally {
    await ctx.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report: the same inputs give byte-identical reports", async () => {
  const root = await Deno.makeTempDir({ prefix: "report-test-" });
  const inputs = await writeInputs(root);
  const first = await stageContext(kind, {}, inputs, PROVENANCE);
  const second = await stageContext(kind, {}, inputs, PROVENANCE);
  try {
    await run(first);
    await run(second);
    await assertSameOutputs(kind, first, second);
  } finally {
    await first.cleanup();
    await second.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report: a model missing from the evaluation is an error naming it", async () => {
  const root = await Deno.makeTempDir({ prefix: "report-test-" });
  const inputs = await writeInputs(root);
  const extra = join(root, "train_extra");
  await Deno.mkdir(extra);
  for (const file of ["metrics.json", "history.jsonl"]) {
    await Deno.copyFile(join(inputs.models[0].dir, file), join(extra, file));
  }
  inputs.models.push({ stage: "train_extra", dir: extra });
  const ctx = await stageContext(kind, {}, inputs, PROVENANCE);
  try {
    await assert.rejects(run(ctx), /no scores for model train_extra/);
  } finally {
    await ctx.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report: a malformed evaluation metrics.json names the file and key", async () => {
  const root = await Deno.makeTempDir({ prefix: "report-test-" });
  const inputs = await writeInputs(root);
  const path = join(inputs.evaluation[0].dir, "metrics.json");
  await Deno.writeTextFile(path, JSON.stringify({ ...EVALUATION, test_images: "many" }));
  const ctx = await stageContext(kind, {}, inputs, PROVENANCE);
  try {
    await assert.rejects(
      run(ctx),
      (e: Error) => e.message.includes(path) && e.message.includes("test_images"),
    );
  } finally {
    await ctx.cleanup();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("report document: a row with the wrong number of cells is an error", () => {
  const blocks = [{ type: "table" as const, headers: ["a", "b"], rows: [["1", "2"], ["3"]] }];
  assert.throws(() => toMarkdown(blocks), /row 1 has 1 cells, not 2/);
  assert.throws(() => toHtml(blocks, "t"), /row 1 has 1 cells, not 2/);
});

Deno.test("report document: markdown escapes pipes, html escapes markup", () => {
  const blocks = [{ type: "table" as const, headers: ["a|b"], rows: [["<x> & `y`"]] }];
  assert.match(toMarkdown(blocks), /\| a\\\|b \|/);
  assert.match(toHtml(blocks, "t"), /<td>&lt;x&gt; &amp; <code>y<\/code><\/td>/);
});
