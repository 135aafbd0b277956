import * as tf from "@tensorflow/tfjs-core";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { kind, type TrainParams } from "../stages/train/kind.ts";
import type { Progress } from "../pipeline/stage_kind.ts";
import { run } from "../stages/train/run.ts";
import { loadModel, reconstruct, reconstructWith } from "../stages/train/model.ts";
import { dataInit, randomInit } from "../stages/train/init.ts";
import { readNpyFloat32, writeNpy } from "../stages/lib/npy.ts";
import { Rng } from "../stages/lib/prng.ts";
import { probeBackend } from "../stages/lib/backend_probe.ts";
import { stageContext } from "./fixtures/report/context.ts";
import { SYNTHETIC_PIXELS, syntheticData } from "./fixtures/train_data.ts";

const D = SYNTHETIC_PIXELS;

const data = await syntheticData();
// wasm: the backend that computes the same bits on every machine.
const base = {
  components: 3,
  latent_dim: 4,
  batch_size: 50,
  epochs: 3,
  init: "data",
  seed: 5,
  backend: "wasm",
};

async function train(
  raw: Record<string, unknown>,
  stateDir?: string,
  onProgress?: (p: Progress) => void,
) {
  const ctx = await stageContext(
    kind,
    raw,
    { data: [{ stage: "shuffle", dir: data }] },
    undefined,
    "train",
  );
  if (stateDir) ctx.stateDir = stateDir;
  if (onProgress) ctx.progress = onProgress;
  return ctx;
}

Deno.test("train: params reject bad values with messages naming the key", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ components: 0 }, "components (K) must be at least 1"],
    [{ components: 2, latent_dim: 784 }, "latent_dim (E) must be below the 784 pixels"],
    [{ components: 2, latent_dim: 0 }, "latent_dim (E) must be at least 1"],
    [{ components: 2, beta: 0 }, "beta must be > 0"],
    [{ components: 2, steps: 0 }, "steps (T) must be at least 1"],
    [{ components: 2, batch_size: 0 }, "batch_size must be at least 1"],
    [{ components: 2, optimizer: "sgd" }, "optimizer must be rmsprop, rmsprop_tfjs or adam"],
  ];
  for (const [raw, message] of cases) {
    const result = kind.params.safeParse(raw);
    ok(!result.success, JSON.stringify(raw));
    ok(
      result.error.issues.some((i) => i.message.includes(message)),
      `${JSON.stringify(raw)}: ${result.error.message}`,
    );
  }
  ok(!kind.params.safeParse({ components: 2, colour: 1 }).success, "unknown keys are errors");
  const defaults: TrainParams = kind.params.parse({ components: 11 });
  deepStrictEqual(
    [
      defaults.latent_dim,
      defaults.steps,
      defaults.beta,
      defaults.batch_size,
      defaults.lr,
      defaults.seed,
    ],
    [20, 5, 0.01, 360, 1e-3, 28],
  );
  strictEqual(defaults.backend, "auto");
  // The backend is a runtime fact the engine resolves (and grants FFI for), asked as data.
  deepStrictEqual(kind.runtime!(defaults), { tfjs: "auto" });
});

Deno.test("train: writes the model, history and metrics; the model reloads to the same test MSE", async () => {
  const ctx = await train(base);
  await run(ctx);
  const model = await loadModel(join(ctx.outDir, "model.safetensors"));
  deepStrictEqual([model.components, model.pixels, model.latentDim], [3, D, 4]);
  strictEqual(model.metadata.backend, "wasm");
  strictEqual(model.metadata.epoch, "3");
  const history = (await Deno.readTextFile(join(ctx.outDir, "history.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l));
  deepStrictEqual(history.map((h) => h.epoch), [1, 2, 3]);
  for (const h of history) {
    ok(Number.isFinite(h.train_loss) && Number.isFinite(h.test_mse) && h.seconds >= 0);
    strictEqual(h.usage.reduce((a: number, b: number) => a + b, 0), 60);
  }
  const metrics = JSON.parse(await Deno.readTextFile(join(ctx.outDir, "metrics.json")));
  strictEqual(metrics.test_mse, history[2].test_mse);
  const { data: images } = await readNpyFloat32(join(data, "test_images.npy"));
  const { sqErr } = reconstruct(model, images, 60);
  const mse = sqErr.reduce((a, b) => a + b, 0) / 60;
  ok(Math.abs(mse - metrics.test_mse) < 1e-3 * metrics.test_mse, `${mse} vs ${metrics.test_mse}`);
  // Data init starts near the optimum: far below the per-pixel variance of the data.
  ok(metrics.init_test_mse < 100, `init test MSE ${metrics.init_test_mse}`);
  await ctx.cleanup();
});

/** The backends the stage runs training on: wasm everywhere, blas (fused RMSprop) with OpenBLAS. */
const blasMissing = probeBackend("blas").backend !== "blas";
const BACKENDS = [{ backend: "wasm", ignore: false }, { backend: "blas", ignore: blasMissing }];

for (const { backend, ignore } of BACKENDS) {
  Deno.test({
    name:
      `train on ${backend}: same config gives a bit-identical model; an interrupted run resumes to it`,
    ignore,
    fn: () => sameModelAndResume(backend),
  });
  Deno.test({
    name:
      `train on ${backend}: the live tensor count stays flat from epoch to epoch and returns to its start`,
    ignore,
    fn: () => flatTensorCount(backend),
  });
}

async function sameModelAndResume(backend: string) {
  for (const init of ["data", "random"]) {
    const params = { ...base, init, backend, checkpoint_seconds: 0 }; // after every epoch
    const a = await train(params);
    await run(a);
    const b = await train(params);
    await run(b);
    const formulation = backend === "blas" ? "fused" : "tfjs";
    ok(a.logs.includes(`training step: ${formulation} formulation`), a.logs.join("\n"));
    const modelA = await Deno.readFile(join(a.outDir, "model.safetensors"));
    deepStrictEqual(await Deno.readFile(join(b.outDir, "model.safetensors")), modelA);
    // Interrupt in epoch 3, then run again with the same state dir.
    const c = await train(params, undefined, (p) => {
      if (p.phase === "train" && p.of?.done === 2) throw new Error("interrupted"); // epoch 3
    });
    await rejects(run(c), /interrupted/);
    const d = await train(params, c.stateDir);
    await run(d);
    ok(
      d.logs.some((l) => l.includes("resuming from the checkpoint of epoch 2")),
      d.logs.join("\n"),
    );
    deepStrictEqual(
      await Deno.readFile(join(d.outDir, "model.safetensors")),
      modelA,
      `init ${init}`,
    );
    for (const ctx of [a, b, d]) await ctx.cleanup();
    await Deno.remove(c.outDir, { recursive: true });
  }
}

Deno.test("train: checkpoint_seconds is key-neutral: the same model at any interval; with no checkpoint due, an interrupted run starts over", async () => {
  strictEqual(kind.params.parse({ components: 2 }).checkpoint_seconds, 10);
  ok(kind.keyNeutralParams?.includes("checkpoint_seconds"));
  const every = await train({ ...base, checkpoint_seconds: 0 });
  await run(every);
  const interrupted = await train({ ...base, checkpoint_seconds: 1e6 }, undefined, (p) => {
    if (p.phase === "train" && p.of?.done === 2) throw new Error("interrupted"); // epoch 3
  });
  await rejects(run(interrupted), /interrupted/);
  const saved = [...Deno.readDirSync(interrupted.stateDir)].map((e) => e.name);
  deepStrictEqual(saved.filter((n) => n.startsWith("epoch-")), [], "no checkpoint was due");
  const again = await train({ ...base, checkpoint_seconds: 1e6 }, interrupted.stateDir);
  await run(again);
  ok(!again.logs.some((l) => l.includes("resuming")), again.logs.join("\n"));
  deepStrictEqual(
    await Deno.readFile(join(again.outDir, "model.safetensors")),
    await Deno.readFile(join(every.outDir, "model.safetensors")),
  );
  for (const ctx of [every, again]) await ctx.cleanup();
  await Deno.remove(interrupted.outDir, { recursive: true });
});

async function flatTensorCount(backend: string) {
  for (const optimizer of ["rmsprop", "rmsprop_tfjs", "adam"]) {
    await tensorCountOver4Epochs({ ...base, epochs: 4, optimizer, backend });
  }
}

async function tensorCountOver4Epochs(params: Record<string, unknown>) {
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const ctx = await train(params);
  ctx.log = (message) => {
    if (message.startsWith("epoch ")) counts.push(tf.memory().numTensors);
  };
  await run(ctx);
  strictEqual(counts.length, 4);
  ok(counts.every((c) => c === counts[0]), `${params.optimizer}: tensors per epoch: ${counts}`);
  strictEqual(tf.memory().numTensors, before, `${params.optimizer}: tensors after training`);
  await ctx.cleanup();
}

Deno.test("train init random: μ and W fill PyTorch's nn.Linear ranges ±1/√D and ±1/√(D·E·K)", () => {
  const [K, D, E] = [11, 784, 20];
  const { mu, W } = randomInit({ K, D, E }, new Rng(28));
  const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  for (
    const [name, values, bound] of [["mu", mu, 1 / 28], ["W", W, 1 / Math.sqrt(D * E * K)]] as const
  ) {
    ok(maxAbs(values) <= bound, `${name}: ${maxAbs(values)} above ${bound}`);
    ok(maxAbs(values) > 0.99 * bound, `${name}: ${maxAbs(values)} does not fill ±${bound}`);
    ok(Math.abs(mean(values)) < 0.02 * bound, `${name}: mean ${mean(values)} is not centred`);
  }
  deepStrictEqual(randomInit({ K, D, E }, new Rng(28)).W.slice(0, 5), W.slice(0, 5));
});

Deno.test("train: a non-finite loss stops with an error naming epoch and batch", async () => {
  const ctx = await train({ ...base, init: "random", lr: 1e30 });
  await rejects(run(ctx), /loss is (NaN|Infinity) at epoch 1, batch \d+\/5/);
  await ctx.cleanup();
});

Deno.test("train: bad input files and latent_dim ≥ pixels are clear errors", async () => {
  const ctx = await train({ ...base, latent_dim: 64 });
  await rejects(run(ctx), /latent_dim 64 must be below the 64 pixels/);
  await ctx.cleanup();
  const empty = await Deno.makeTempDir();
  const ctx2 = await stageContext(kind, base, { data: [{ stage: "shuffle", dir: empty }] });
  await rejects(run(ctx2), /train_images\.npy/);
  await ctx2.cleanup();
  const noTrain = await Deno.makeTempDir();
  await writeNpy(join(noTrain, "train_images.npy"), { data: new Float32Array(0), shape: [0, D] });
  await Deno.copyFile(join(data, "test_images.npy"), join(noTrain, "test_images.npy"));
  const ctx3 = await stageContext(kind, base, { data: [{ stage: "shuffle", dir: noTrain }] });
  await rejects(run(ctx3), /holds 0 training and 60 test images/);
  await ctx3.cleanup();
  await Deno.remove(noTrain, { recursive: true });
});

Deno.test("train init data: k-subspace rounds do not increase the training error (λ = 0)", async () => {
  const { data: x, shape: [n] } = await readNpyFloat32(join(data, "train_images.npy"));
  const encoder = { steps: 5, beta: 0.01, latentDecay: 0 };
  const error = (rounds: number) => {
    const init = dataInit({
      images: { data: x, n },
      dims: { K: 3, D, E: 2 },
      encoder,
      rng: new Rng(1),
      rounds,
    });
    const params = { mu: tf.tensor2d(init.mu, [3, D]), W: tf.tensor3d(init.W, [3, D, 2]) };
    const { sqErr } = reconstructWith(params, encoder, x, n);
    tf.dispose([params.mu, params.W]);
    return sqErr.reduce((a, b) => a + b, 0) / n;
  };
  const [before, after] = [error(0), error(3)];
  ok(after <= before * (1 + 1e-5), `k-means start ${before}, after 3 rounds ${after}`);
});

Deno.test("train: an empty checkpoint in the state dir is skipped with a warning; training starts over", async () => {
  const fresh = await train(base);
  await run(fresh);
  const ctx = await train(base);
  const corrupt = join(ctx.stateDir, "epoch-00001.safetensors");
  await Deno.writeFile(corrupt, new Uint8Array(0));
  await run(ctx);
  ok(
    ctx.logs.some((l) => l.startsWith("warning:") && l.includes(corrupt)),
    ctx.logs.join("\n"),
  );
  deepStrictEqual(
    await Deno.readFile(join(ctx.outDir, "model.safetensors")),
    await Deno.readFile(join(fresh.outDir, "model.safetensors")),
  );
  for (const c of [fresh, ctx]) await c.cleanup();
});
