/**
 * The cross-framework check: our training step (stages/train/step.ts, the `train` stage's
 * code on the backend `auto` picks) against the PyTorch reference trainer
 * (reference/torch_llgae.py, written from the note's equations with torch.optim.RMSprop), from
 * the same initial μ and W (our `init: random`) on the same batch sequence of real
 * Fashion-MNIST images. Skips with a message where python3 with torch and numpy is missing,
 * except under CI (`CI=true`), where that is a failure.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // registers the gradients
import { ok } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { parseImages, PIXELS } from "../stages/download/idx.ts";
import { DEBIAN_MIRROR } from "../stages/download/fashion_mnist.ts";
import { centreRows } from "../stages/shuffle/centre.ts";
import { readNpyFloat32, writeNpy } from "../stages/lib/npy.ts";
import { Rng } from "../stages/lib/prng.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { randomInit } from "../stages/train/init.ts";
import { makeOptimizer } from "../stages/train/optimizer.ts";
import { optimizerStep } from "../stages/train/step.ts";

const REFERENCE = new URL("../reference/torch_llgae.py", import.meta.url).pathname;

/** The first of `$PYTHON`, /usr/bin/python3, python3 that imports torch and numpy. */
function findPython(): string | undefined {
  const candidates = [Deno.env.get("PYTHON"), "/usr/bin/python3", "python3"].filter((c) => c);
  for (const python of candidates as string[]) {
    try {
      const probe = new Deno.Command(python, {
        args: ["-c", "import torch, numpy"],
        stdout: "null",
        stderr: "null",
      }).outputSync();
      if (probe.success) return python;
    } catch {
      // not installed
    }
  }
  return undefined;
}

const python = findPython();
const underCi = Deno.env.get("CI") === "true";
const missing = "python3 with torch and numpy not found (tried $PYTHON, /usr/bin/python3, " +
  "python3; Debian: apt-get install python3-torch python3-numpy)";
if (!python && !underCi) console.warn(`torch_reference_test: skipping, ${missing}`);

/** The note's model and optimizer; a tiny batch sequence. */
const [K, E, T, BETA, LAMBDA, LR] = [11, 20, 5, 0.01, 1, 1e-3];
const [IMAGES, BATCH, STEPS] = [360, 36, 50];
/** Losses agree to this relative difference at steps 1, 10 and 50 … */
const LOSS_TOLERANCE = 1e-5;
/** … and μ, W after 50 steps to this relative Euclidean distance (measured: 0 and 2e-5). */
const PARAM_TOLERANCE = 1e-4;

/** The first `n` training images of Debian's Fashion-MNIST, centred as the shuffle stage does. */
async function realImages(n: number): Promise<Float32Array> {
  const path = join(DEBIAN_MIRROR, "train-images-idx3-ubyte.gz");
  const { pixels } = parseImages(gunzipSync(await Deno.readFile(path)), path);
  const out = new Float32Array(n * PIXELS);
  centreRows(pixels, Array.from({ length: n }, (_, i) => i), 0, out);
  return out;
}

/** Every step's batch: each pass over the images in a fresh seeded order. */
function batchRows(rng: Rng): Int32Array {
  const rows = new Int32Array(STEPS * BATCH);
  let order = rng.permutation(IMAGES), at = 0;
  for (let i = 0; i < rows.length; i++) {
    if (at === IMAGES) [order, at] = [rng.permutation(IMAGES), 0];
    rows[i] = order[at++];
  }
  return rows;
}

/** Runs our training step over the batches; returns every step's loss and the final μ, W. */
function trainOurs(
  images: Float32Array,
  rows: Int32Array,
  init: { mu: Float32Array; W: Float32Array },
) {
  const model = {
    mu: tf.variable(tf.tensor2d(init.mu, [K, PIXELS])) as unknown as tf.Tensor2D,
    W: tf.variable(tf.tensor3d(init.W, [K, PIXELS, E])) as unknown as tf.Tensor3D,
  };
  const optimizer = makeOptimizer({ optimizer: "rmsprop", lr: LR });
  const encoder = { steps: T, beta: BETA, latentDecay: LAMBDA };
  const losses: number[] = [];
  const batch = new Float32Array(BATCH * PIXELS);
  for (let step = 0; step < STEPS; step++) {
    for (let r = 0; r < BATCH; r++) {
      const i = rows[step * BATCH + r];
      batch.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
    }
    const x = tf.tensor2d(batch, [BATCH, PIXELS]);
    losses.push(optimizerStep({ model, optimizer, encoder, x }));
    x.dispose();
  }
  const out = {
    losses,
    mu: model.mu.dataSync() as Float32Array,
    W: model.W.dataSync() as Float32Array,
  };
  optimizer.dispose();
  tf.dispose([model.mu, model.W]);
  return out;
}

/** ‖a − b‖ / ‖b‖ (Euclidean norms over all elements). */
function relativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    scale += b[i] ** 2;
  }
  return Math.sqrt(diff / scale);
}

Deno.test({
  name: "training matches the PyTorch reference from the same start: loss after 1, 10, 50 " +
    "RMSprop steps and μ, W after 50",
  ignore: !python && !underCi,
  async fn() {
    if (!python) throw new Error(`CI=true: ${missing}`);
    const dir = await Deno.makeTempDir({ prefix: "torch-reference-" });
    try {
      const images = await realImages(IMAGES);
      const rows = batchRows(new Rng(7));
      const init = randomInit(K, PIXELS, E, new Rng(28));
      await writeNpy(join(dir, "images.npy"), { data: images, shape: [IMAGES, PIXELS] });
      await writeNpy(join(dir, "order.npy"), { data: rows, shape: [1, STEPS * BATCH] });
      await writeNpy(join(dir, "mu.npy"), { data: init.mu, shape: [K, PIXELS] });
      await writeNpy(join(dir, "W.npy"), { data: init.W, shape: [K, PIXELS, E] });
      const config = {
        steps: T,
        beta: BETA,
        latent_decay: LAMBDA,
        lr: LR,
        optimizer: "rmsprop",
        batch_size: BATCH,
      };
      await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
      const torch = await new Deno.Command(python, { args: [REFERENCE, "steps", dir] }).output();
      ok(torch.success, `reference failed: ${new TextDecoder().decode(torch.stderr)}`);

      await initBackend("auto");
      const ours = trainOurs(images, rows, init);
      const theirs = JSON.parse(await Deno.readTextFile(join(dir, "torch_losses.json")));
      for (const step of [1, 10, 50]) {
        const [a, b] = [ours.losses[step - 1], theirs.losses[step - 1]];
        const rel = Math.abs(a - b) / b;
        ok(rel <= LOSS_TOLERANCE, `loss after step ${step}: ours ${a}, PyTorch ${b} (rel ${rel})`);
      }
      for (const name of ["mu", "W"] as const) {
        const reference = (await readNpyFloat32(join(dir, `torch_${name}.npy`))).data;
        const rel = relativeDiff(ours[name], reference);
        ok(rel <= PARAM_TOLERANCE, `${name} after ${STEPS} steps: relative max difference ${rel}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
