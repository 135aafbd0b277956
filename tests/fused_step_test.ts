import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // registers the gradients (tfjs-core alone has none)
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { makeTrainer } from "../stages/train/trainer.ts";
import { loss, type ModelDims, type Params } from "../stages/train/model.ts";
import {
  fusedChoices,
  fusedErrors,
  FusedGradients,
  imageNorms,
  packParams,
  unpackParams,
} from "../stages/train/fused_gradients.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { blasOf } from "../stages/lib/blas/backend.ts";
import { probeBackend } from "../stages/lib/backend_probe.ts";
import { llgaeProblem } from "./fixtures/llgae_problem.ts";

const ignore = probeBackend("blas").backend !== "blas";
if (!ignore) await initBackend("blas");

/** The shared test problem, W scaled so that W_kᵀx stays of one size whatever D. */
const problem = (dims: ModelDims, B: number, seed: number) =>
  llgaeProblem(dims, B, seed, 0.8 / Math.sqrt(dims.D / 48));

/** Largest |a − b| relative to the largest |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, diff = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** A trainer of `dims` from `start` with the train stage's RMSprop(1e-3) and encoder. */
const rmspropTrainer = (
  dims: ModelDims,
  start: { mu: Float32Array; W: Float32Array },
  formulation?: "fused" | "tfjs",
) =>
  makeTrainer({
    dims,
    encoder: { steps: 5, beta: 0.01, latentDecay: 1 },
    optimizer: { optimizer: "rmsprop", lr: 1e-3 },
    start,
    backend: tf.getBackend(),
    formulation,
  });

/** The tfjs fast formulation's loss, gradients and choice (the reference). */
function reference(
  dims: ModelDims,
  x: Float32Array,
  B: number,
  mu: Float32Array,
  W: Float32Array,
  encoder: { steps: number; beta: number; latentDecay: number },
) {
  const { K, D, E } = dims;
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [B, D]);
    const { value, grads } = tf.valueAndGrads((m: tf.Tensor, w: tf.Tensor) =>
      loss({ mu: m as tf.Tensor2D, W: w as tf.Tensor3D } as Params, xt, encoder)
    )([tf.tensor2d(mu, [K, D]), tf.tensor3d(W, [K, D, E])]);
    return { loss: value.dataSync()[0], dMu: grads[0].dataSync(), dW: grads[1].dataSync() };
  });
}

/** [K, D, E, B, λ, T]. */
const CASES = [
  [4, 48, 5, 40, 1, 5],
  [4, 48, 5, 40, 0, 5],
  [4, 48, 5, 40, 1, 1],
  [4, 48, 5, 40, 0, 2],
  [1, 48, 5, 40, 1, 5],
  [11, 784, 20, 360, 1, 5],
];
for (const [K, D, E, B, latentDecay, steps] of CASES) {
  Deno.test({
    name:
      `fused gradients: loss and gradients match the tfjs formulation (K=${K} D=${D} E=${E} B=${B}, λ=${latentDecay}, T=${steps})`,
    ignore,
    fn() {
      const dims = { K, D, E };
      const encoder = { steps, beta: 0.01, latentDecay };
      const { x, mu, W } = problem(dims, B, 3 + K + steps);
      const fused = new FusedGradients({
        blas: blasOf(tf.getBackend())!,
        dims,
        encoder,
        maxRows: B,
      });
      const value = fused.compute(x, B, packParams(dims, mu, W));
      const { mu: dMu, W: dW } = unpackParams(dims, fused.gradient);
      const ref = reference(dims, x, B, mu, W, encoder);
      ok(Math.abs(value - ref.loss) <= 1e-5 * ref.loss, `loss ${value} vs ${ref.loss}`);
      ok(relDiff(dMu, ref.dMu) < 1e-4, `dμ differs by ${relDiff(dMu, ref.dMu)}`);
      ok(relDiff(dW, ref.dW) < 1e-4, `dW differs by ${relDiff(dW, ref.dW)}`);
      if (K > 1) ok(new Set(fused.choice).size > 1, "several components are chosen");
    },
  });
}

for (const optimizer of ["rmsprop", "rmsprop_tfjs"] as const) {
  Deno.test({
    name:
      `fused step (${optimizer}): loss, parameters and RMSprop state after 12 steps match the tfjs path`,
    ignore,
    async fn() {
      const dims = { K: 4, D: 48, E: 5 }, B = 40;
      const encoder = { steps: 5, beta: 0.01, latentDecay: 1 };
      const { x, mu, W } = problem(dims, B * 3, 21);
      const run = async (formulation: "fused" | "tfjs") => {
        const trainer = makeTrainer({
          dims,
          encoder,
          optimizer: { optimizer, lr: 1e-3 },
          start: { mu, W },
          backend: tf.getBackend(),
          formulation,
        });
        strictEqual(trainer.formulation, formulation);
        const losses = [];
        for (let s = 0; s < 12; s++) {
          losses.push(trainer.step(x.subarray((s % 3) * B * dims.D), B));
        }
        trainer.sync();
        const weights = await trainer.optimizer.getWeights();
        const out = {
          losses,
          mu: trainer.params.mu.dataSync().slice(),
          W: trainer.params.W.dataSync().slice(),
          slots: weights.map((w) => ({
            name: w.name.replace(`${(trainer.params.mu as tf.Variable).name}/`, "mu/")
              .replace(`${(trainer.params.W as tf.Variable).name}/`, "W/"),
            values: w.tensor.dataSync().slice(),
          })),
        };
        tf.dispose(weights[0].tensor);
        trainer.dispose();
        return out;
      };
      const fused = await run("fused"), ref = await run("tfjs");
      ok(relDiff(fused.losses, ref.losses) < 1e-5, `losses ${fused.losses} vs ${ref.losses}`);
      ok(relDiff(fused.mu, ref.mu) < 1e-5, `μ differs by ${relDiff(fused.mu, ref.mu)}`);
      ok(relDiff(fused.W, ref.W) < 1e-5, `W differs by ${relDiff(fused.W, ref.W)}`);
      const names = ["iter", "mu/rms", "W/rms", "mu/momentum", "W/momentum"];
      deepStrictEqual(fused.slots.map((s) => s.name), names);
      deepStrictEqual(ref.slots.map((s) => s.name), names);
      strictEqual(fused.slots[0].values[0], 12, "the iteration count");
      for (const i of [1, 2]) { // the running means of g² (the moments are unused at momentum 0)
        const d = relDiff(fused.slots[i].values, ref.slots[i].values);
        ok(d < 1e-3, `slot ${ref.slots[i].name} differs by ${d}`);
      }
      ok(relDiff(fused.mu, mu) > 1e-5 && relDiff(fused.W, W) > 1e-3, "the steps moved μ and W");
      ok(fused.losses[11] < fused.losses[2], `the loss fell: ${fused.losses}`);
    },
  });
}

Deno.test({
  name: "fused scoring: choice and per-image error match the tfjs forward pass",
  ignore,
  fn() {
    const dims = { K: 4, D: 48, E: 5 }, n = 2500; // more than one scoring batch
    const { x, mu, W } = problem(dims, n, 8);
    const score = (formulation: "fused" | "tfjs") => {
      const trainer = rmspropTrainer(dims, { mu, W }, formulation);
      const out = trainer.scorer(x, n)();
      trainer.dispose();
      return out;
    };
    const fused = score("fused"), ref = score("tfjs");
    deepStrictEqual(Array.from(fused.choice), Array.from(ref.choice));
    ok(new Set(fused.choice).size === dims.K, "every component is chosen somewhere");
    for (let i = 0; i < n; i++) {
      const d = Math.abs(fused.sqErr[i] - ref.sqErr[i]) / ref.sqErr[i];
      ok(d < 1e-4, `image ${i}: ${fused.sqErr[i]} vs ${ref.sqErr[i]}`);
    }
  },
});

Deno.test({
  name: "fused scoring: given image norms and choice-only scoring give the same choices and errors",
  ignore,
  fn() {
    const dims = { K: 4, D: 48, E: 5 }, n = 2300;
    const { x, mu, W } = problem(dims, n, 13);
    const o = {
      blas: blasOf(tf.getBackend())!,
      dims,
      encoder: { steps: 5, beta: 0.01, latentDecay: 1 },
      images: x,
      n,
      params: { mu, W },
    };
    const plain = fusedErrors(o);
    const withNorms = fusedErrors({ ...o, norms: imageNorms(x, n, dims.D) });
    deepStrictEqual(withNorms, plain);
    deepStrictEqual(fusedChoices(o), plain.choice);
    ok(new Set(plain.choice).size === dims.K, "every component is chosen somewhere");
  },
});

Deno.test({
  name: "fused step: given row norms give the same losses, μ and W bit for bit",
  ignore,
  fn() {
    const dims = { K: 4, D: 48, E: 5 }, B = 40;
    const { x, mu, W } = problem(dims, B * 3, 34);
    const norms = imageNorms(x, B * 3, dims.D);
    const run = (given: boolean) => {
      const trainer = rmspropTrainer(dims, { mu, W });
      const losses = [];
      for (let s = 0; s < 9; s++) {
        const from = (s % 3) * B;
        const rowNorms = given ? norms.subarray(from, from + B) : undefined;
        losses.push(trainer.step(x.subarray(from * dims.D), B, rowNorms));
      }
      trainer.sync();
      const out = { losses, mu: trainer.params.mu.dataSync(), W: trainer.params.W.dataSync() };
      trainer.dispose();
      return out;
    };
    const computed = run(false), given = run(true);
    strictEqual(computed.losses.length, 9);
    deepStrictEqual(given, computed);
    ok(relDiff(computed.W, W) > 1e-3, "the steps moved W");
  },
});
