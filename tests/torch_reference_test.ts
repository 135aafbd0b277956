/**
 * The cross-framework check: the `train` stage's training step (its `Trainer`, in the formulation
 * the backend `auto` picks, and in tfjs's autodiff formulation) against the PyTorch reference trainer
 * (reference/torch_llgae.py, written from the note's equations with torch.optim.RMSprop), from
 * the same initial μ and W (our `init: random`) on the same batch sequence of real
 * Fashion-MNIST images. Skips with a message where python3 with torch and numpy is missing,
 * except under CI (`CI=true`), where that is a failure.
 */
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
import {
  defaultFormulation,
  loadGradients,
  makeTrainer,
  type StepFormulation,
} from "../stages/train/trainer.ts";

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

/**
 * Runs the `train` stage's step (its `Trainer`, in `formulation`) over the batches; returns every
 * step's loss and the final μ, W.
 */
function trainOurs(
  images: Float32Array,
  rows: Int32Array,
  start: { mu: Float32Array; W: Float32Array },
  { backend, formulation }: { backend: string; formulation: StepFormulation },
) {
  const trainer = makeTrainer({
    dims: { K, D: PIXELS, E },
    encoder: { steps: T, beta: BETA, latentDecay: LAMBDA },
    optimizer: { optimizer: "rmsprop", lr: LR },
    start,
    backend,
    formulation,
  });
  const losses: number[] = [];
  const batch = new Float32Array(BATCH * PIXELS);
  for (let step = 0; step < STEPS; step++) {
    for (let r = 0; r < BATCH; r++) {
      const i = rows[step * BATCH + r];
      batch.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
    }
    losses.push(trainer.step(batch, BATCH));
  }
  trainer.sync();
  const out = {
    losses,
    mu: trainer.params.mu.dataSync() as Float32Array,
    W: trainer.params.W.dataSync() as Float32Array,
  };
  trainer.dispose();
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
      const init = randomInit({ K, D: PIXELS, E }, new Rng(28));
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

      const backend = await initBackend("auto");
      await loadGradients(); // for the tfjs formulation
      const theirs = JSON.parse(await Deno.readTextFile(join(dir, "torch_losses.json")));
      // The stage's own step on this backend (fused on blas), and tfjs's autodiff path.
      const optimizer = { optimizer: "rmsprop" as const, lr: LR };
      const formulations = new Set([defaultFormulation(backend, optimizer), "tfjs" as const]);
      for (const formulation of formulations) {
        const ours = trainOurs(images, rows, init, { backend, formulation });
        for (const step of [1, 10, 50]) {
          const [a, b] = [ours.losses[step - 1], theirs.losses[step - 1]];
          const rel = Math.abs(a - b) / b;
          ok(
            rel <= LOSS_TOLERANCE,
            `${formulation}: loss after step ${step}: ours ${a}, PyTorch ${b} (rel ${rel})`,
          );
        }
        for (const name of ["mu", "W"] as const) {
          const reference = (await readNpyFloat32(join(dir, `torch_${name}.npy`))).data;
          const rel = relativeDiff(ours[name], reference);
          ok(
            rel <= PARAM_TOLERANCE,
            `${formulation}: ${name} after ${STEPS} steps: relative difference ${rel}`,
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
