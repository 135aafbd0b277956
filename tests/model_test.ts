import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // registers the gradients (tfjs-core alone has none)
import { ok, strictEqual } from "node:assert/strict";
import { forward, lossLiteral, type Params } from "../stages/train/model.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { llgaeProblem } from "./fixtures/llgae_problem.ts";

await initBackend("wasm");

/** The shared test problem as tensors: the images and μ, W as variables. */
function problem(K: number, D: number, E: number, B: number, seed: number) {
  const { x, mu, W } = llgaeProblem({ K, D, E }, B, seed);
  return {
    x: tf.tensor2d(x, [B, D]),
    params: { mu: tf.variable(tf.tensor2d(mu, [K, D])), W: tf.variable(tf.tensor3d(W, [K, D, E])) },
  };
}

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const av = a.dataSync(), bv = b.dataSync();
  let scale = 0, diff = 0;
  for (let i = 0; i < av.length; i++) {
    scale = Math.max(scale, Math.abs(av[i]));
    diff = Math.max(diff, Math.abs(av[i] - bv[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** [K, λ, T]: LGAE and LLGAE, with and without the prior, the note's T and the shortest ones. */
const CASES = [[1, 0, 5], [1, 1, 5], [4, 0, 5], [4, 1, 5], [4, 1, 1], [4, 0, 2]];
for (const [K, latentDecay, steps] of CASES) {
  Deno.test(`model: literal and fast formulations agree on loss, choice and gradients (K=${K}, λ=${latentDecay}, T=${steps})`, () => {
    const { x, params } = problem(K, 48, 5, 40, 11 + K + latentDecay);
    const encoder = { steps, beta: 0.01, latentDecay };
    const lit = (p: Params) => lossLiteral(p, x, encoder);
    const fast = (p: Params) => forward(p, x, encoder);
    const a = lit(params), b = fast(params);
    ok(maxRelDiff(a.loss, b.loss) < 1e-5, `loss ${a.loss.dataSync()} vs ${b.loss.dataSync()}`);
    strictEqual(Array.from(a.choice.dataSync()).join(), Array.from(b.choice.dataSync()).join());
    if (K > 1) {
      ok(new Set(a.choice.dataSync()).size > 1, "the test should exercise several components");
    }
    const gl = tf.grads((mu: tf.Tensor, W: tf.Tensor) =>
      lit({ mu: mu as tf.Tensor2D, W: W as tf.Tensor3D }).loss
    );
    const gf = tf.grads((mu: tf.Tensor, W: tf.Tensor) =>
      fast({ mu: mu as tf.Tensor2D, W: W as tf.Tensor3D }).loss
    );
    const [dMuL, dWL] = gl([params.mu, params.W]);
    const [dMuF, dWF] = gf([params.mu, params.W]);
    ok(maxRelDiff(dMuL, dMuF) < 1e-4, `dμ differs by ${maxRelDiff(dMuL, dMuF)}`);
    ok(maxRelDiff(dWL, dWF) < 1e-4, `dW differs by ${maxRelDiff(dWL, dWF)}`);
    ok(tf.norm(dWF).dataSync()[0] > 0, "gradient reaches W");
    tf.dispose([
      x,
      params.mu,
      params.W,
      a.loss,
      a.choice,
      b.loss,
      b.choice,
      b.recon,
      b.sqErr,
      dMuL,
      dWL,
      dMuF,
      dWF,
    ]);
  });
}

Deno.test("model: the fast reconstruction is μ_k* + W_k* b_k*(T) and its error is the loss", () => {
  const K = 3, D = 30, E = 4;
  const { x, params } = problem(K, D, E, 12, 3);
  const encoder = { steps: 5, beta: 0.01, latentDecay: 0 };
  const out = forward(params, x, encoder);
  const choice = out.choice.dataSync();
  const mu = params.mu.dataSync(),
    W = params.W.dataSync(),
    xs = x.dataSync(),
    recon = out.recon.dataSync();
  for (let i = 0; i < 12; i++) {
    const k = choice[i];
    let b = new Float64Array(E); // the note's steps, in float64
    for (let t = 0; t < 5; t++) {
      const r = Array.from({ length: D }, (_, j) => {
        let wb = 0;
        for (let e = 0; e < E; e++) wb += W[(k * D + j) * E + e] * b[e];
        return xs[i * D + j] - mu[k * D + j] - wb;
      });
      b = b.map((v, e) => v + 0.01 * r.reduce((s, rj, j) => s + W[(k * D + j) * E + e] * rj, 0));
    }
    for (let j = 0; j < D; j++) {
      let expected = mu[k * D + j];
      for (let e = 0; e < E; e++) expected += W[(k * D + j) * E + e] * b[e];
      ok(
        Math.abs(expected - recon[i * D + j]) < 1e-3 * Math.max(1, Math.abs(expected)),
        `image ${i} pixel ${j}`,
      );
    }
  }
  const sq = out.sqErr.dataSync();
  const mean = Array.from(sq).reduce((a, v) => a + v, 0) / sq.length;
  ok(Math.abs(mean - out.loss.dataSync()[0]) < 1e-3 * mean);
  tf.dispose([x, params.mu, params.W, out.loss, out.recon, out.choice, out.sqErr]);
});
