/**
 * Runs the `train` stage: initialises LGAE/LLGAE, trains it with RMSprop or Adam on seeded
 * per-epoch batch orders, scores the test set after every epoch, checkpoints into the state dir
 * every `checkpoint_seconds` (resuming from the last checkpoint), and writes
 * `model.safetensors`, `history.jsonl` and `metrics.json`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { Rng } from "../lib/prng.ts";
import { writeSafeTensors } from "../lib/safetensors.ts";
import { initBackend } from "../lib/tf_backend.ts";
import { type Images, readImages } from "../shuffle/outputs.ts";
import { type Checkpoint, latestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { dataInit, type InitialParams, randomInit } from "./init.ts";
import type { TrainParams } from "./kind.ts";
import {
  type DivergenceCheck,
  epochDivergence,
  modelDivergence,
  referenceMse,
} from "./stability.ts";
import type { Encoder, ModelDims, Params } from "./model.ts";
import { type HistoryRecord, writeHistory, writeMetrics } from "./outputs.ts";
import { defaultFormulation, loadGradients, makeTrainer, type Trainer } from "./trainer.ts";
import { imageNorms } from "./fused_gradients.ts";

/**
 * A function giving the test MSE (mean over images of the per-image mean squared pixel error)
 * and component usage under the trainer's current μ, W.
 */
function testScorer(trainer: Trainer, test: Images, K: number) {
  const score = trainer.scorer(test.data, test.n);
  return () => {
    const { choice, sqErr } = score();
    const usage = new Array<number>(K).fill(0);
    for (const k of choice) usage[k]++;
    return { test_mse: sqErr.reduce((a, b) => a + b, 0) / test.n, usage };
  };
}

/** A batch's images (row-major) and, when the images' ‖x‖² are known, theirs. */
interface Batch {
  images: Float32Array;
  norms?: { all: Float64Array; rows: Float64Array };
}

/** Copies the images of `order[start..start+rows)` (and their norms) into `batch`. */
function fillBatch(train: Images, order: Int32Array, start: number, rows: number, batch: Batch) {
  for (let r = 0; r < rows; r++) {
    const i = order[start + r];
    batch.images.set(train.data.subarray(i * train.d, (i + 1) * train.d), r * train.d);
  }
  const norms = batch.norms;
  if (norms) { for (let r = 0; r < rows; r++) norms.rows[r] = norms.all[order[start + r]]; }
}

/** Trains and writes `model.safetensors`, `history.jsonl`, `metrics.json` into `ctx.outDir`. */
export async function run(ctx: StageContext<TrainParams>): Promise<void> {
  const p = ctx.params;
  ctx.progress({ phase: "load", done: 0 });
  const backend = await initBackend(p.backend);
  if (ctx.runtime.backend && ctx.runtime.backend !== backend) {
    throw new Error(
      `train: runtime resolved backend ${ctx.runtime.backend} but ${backend} started`,
    );
  }
  const dataDir = ctx.input("data");
  const train = await readImages(dataDir, "train");
  const test = await readImages(dataDir, "test");
  if (train.n < 1 || test.n < 1) {
    throw new Error(
      `train: ${dataDir} holds ${train.n} training and ${test.n} test images; ` +
        "both need at least one (raise the shuffle stage's limit)",
    );
  }
  const D = train.d, K = p.components, E = p.latent_dim;
  const dims: ModelDims = { K, D, E };
  if (test.d !== D) {
    throw new Error(`train: test images have ${test.d} pixels, training images ${D}`);
  }
  if (E >= D) throw new Error(`train: latent_dim ${E} must be below the ${D} pixels of an image`);
  const encoder: Encoder = { steps: p.steps, beta: p.beta, latentDecay: p.latent_decay };
  // What the model depends on: the params but the key-neutral checkpoint interval.
  const { checkpoint_seconds: checkpointSeconds, ...recipe } = p;
  const identity = { params: JSON.stringify(recipe), backend };

  const rng = new Rng(p.seed);
  const shuffleRng = new Rng(rng.int(0, 2 ** 31 - 1)); // the batch orders' own stream
  const resumed = await latestCheckpoint(ctx.stateDir, {
    identity,
    shapes: { mu: [K, D], W: [K, D, E] },
    warn: ctx.log,
  });
  let start: InitialParams;
  if (resumed) {
    start = { mu: resumed.tensors.mu.data, W: resumed.tensors.W.data };
    ctx.log(`resuming from the checkpoint of epoch ${resumed.epoch}`);
  } else {
    ctx.log(
      `init ${p.init}: K=${K} E=${E} on ${train.n} images of ${D} pixels, backend ${backend}`,
    );
    start = p.init === "data"
      ? dataInit({ images: train, dims, encoder, rng, progress: ctx.progress })
      : randomInit(dims, rng);
  }
  const check: DivergenceCheck = {
    stage: ctx.stage,
    beta: p.beta,
    lr: p.lr,
    referenceMse: resumed?.referenceMse ?? referenceMse(train, test, D, start.mu),
  };
  if (defaultFormulation(backend, p) === "tfjs") await loadGradients();
  const trainer = makeTrainer({ dims, encoder, optimizer: p, start, backend });
  const { params: model, optimizer } = trainer;
  ctx.log(`training step: ${trainer.formulation} formulation`);
  try {
    const history = (resumed?.history ?? []) as HistoryRecord[]; // a checkpoint holds what run wrote
    const score = testScorer(trainer, test, K);
    if (!resumed) ctx.progress({ phase: "init score", done: 0 });
    const initTestMse = resumed?.initTestMse ?? score().test_mse;
    if (!resumed) ctx.log(`after init: test MSE ${initTestMse.toFixed(2)}`);
    if (resumed) {
      const slots = resumed.optimizerSlots.map((name, i) => {
        const t = resumed.tensors[`opt/${i}`];
        return {
          name,
          tensor: i === 0 ? tf.scalar(t.data[0], "int32") : tf.tensor(t.data, t.shape),
        };
      });
      await trainer.restore(slots);
      tf.dispose(slots.map((s) => s.tensor));
    }
    const batches = Math.ceil(train.n / p.batch_size);
    const firstEpoch = (resumed?.epoch ?? 0) + 1;
    // Replay the batch orders of finished epochs so a resumed run continues the same stream.
    for (let epoch = 1; epoch < firstEpoch; epoch++) shuffleRng.permutation(train.n);

    const batchRows = Math.min(p.batch_size, train.n);
    const batch: Batch = { images: new Float32Array(batchRows * D) };
    if (trainer.formulation === "fused") { // its loss needs each row's ‖x‖²: once, not per epoch
      batch.norms = { all: imageNorms(train.data, train.n, D), rows: new Float64Array(batchRows) };
    }
    let checkpointed = { epoch: firstEpoch - 1, at: performance.now() };
    for (let epoch = firstEpoch; epoch <= p.epochs; epoch++) {
      const began = performance.now();
      const order = shuffleRng.permutation(train.n);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const rows = Math.min(p.batch_size, train.n - b * p.batch_size);
        fillBatch(train, order, b * p.batch_size, rows, batch);
        const loss = trainer.step(batch.images, rows, batch.norms?.rows);
        if (!Number.isFinite(loss)) {
          const resume = checkpointed.epoch > 0
            ? `the last good checkpoint is epoch ${checkpointed.epoch} in ${ctx.stateDir}`
            : "no checkpoint was written yet";
          throw new Error(
            `train: loss is ${loss} at epoch ${epoch}, batch ${b + 1}/${batches}; ${resume}. ` +
              `Try a smaller lr or beta.`,
          );
        }
        lossSum += loss * rows;
        ctx.progress({
          phase: "train",
          of: { done: epoch - 1, total: p.epochs, unit: "epoch" },
          done: b + 1,
          total: batches,
          message: `loss ${(lossSum / (b * p.batch_size + rows)).toFixed(1)}`,
        });
      }
      const { test_mse, usage } = score();
      const diverged = epochDivergence(check, epoch, test_mse);
      if (diverged) throw new Error(diverged);
      const seconds = (performance.now() - began) / 1000;
      const line = { epoch, train_loss: lossSum / train.n, test_mse, usage, seconds };
      history.push(line);
      ctx.log(
        `epoch ${epoch}/${p.epochs}: train loss ${line.train_loss.toFixed(2)}, ` +
          `test MSE ${test_mse.toFixed(2)}, ${seconds.toFixed(1)} s`,
      );
      if (performance.now() - checkpointed.at >= checkpointSeconds * 1000) {
        trainer.sync();
        await saveCheckpoint(
          ctx.stateDir,
          identity,
          await checkpointOf(epoch, model, optimizer, history, initTestMse, check.referenceMse),
        );
        checkpointed = { epoch, at: performance.now() };
      }
    }

    const last = history[history.length - 1];
    const diverged = modelDivergence(check, last.test_mse);
    if (diverged) throw new Error(diverged);
    trainer.sync();
    const metadata = { params: identity.params, epoch: String(p.epochs), backend };
    await writeSafeTensors(join(ctx.outDir, "model.safetensors"), {
      tensors: {
        mu: { data: model.mu.dataSync() as Float32Array, shape: [K, D] },
        W: { data: model.W.dataSync() as Float32Array, shape: [K, D, E] },
      },
      metadata,
    });
    await writeHistory(ctx.outDir, history);
    await writeMetrics(ctx.outDir, {
      test_mse: last.test_mse,
      train_loss: last.train_loss,
      epochs: p.epochs,
      components: K,
      latent_dim: E,
      steps: p.steps,
      beta: p.beta,
      latent_decay: p.latent_decay,
      init: p.init,
      optimizer: p.optimizer,
      lr: p.lr,
      batch_size: p.batch_size,
      seed: p.seed,
      backend,
      usage: last.usage,
      init_test_mse: initTestMse,
      train_seconds: history.reduce((s, h) => s + h.seconds, 0),
    });
  } finally {
    trainer.dispose();
  }
}

/** The checkpoint of a finished epoch: parameters, optimizer slots and history. */
async function checkpointOf(
  epoch: number,
  model: Params,
  optimizer: tf.Optimizer,
  history: HistoryRecord[],
  initTestMse: number,
  referenceMse: number,
): Promise<Checkpoint> {
  const weights = await optimizer.getWeights();
  const tensors: Checkpoint["tensors"] = {
    mu: { data: model.mu.dataSync() as Float32Array, shape: model.mu.shape },
    W: { data: model.W.dataSync() as Float32Array, shape: model.W.shape },
  };
  weights.forEach(({ tensor }, i) => {
    tensors[`opt/${i}`] = { data: Float32Array.from(tensor.dataSync()), shape: tensor.shape };
  });
  tf.dispose(weights[0].tensor); // the iteration count is a fresh scalar; the slots are live
  const optimizerSlots = weights.map((w) => w.name);
  return { epoch, tensors, optimizerSlots, history, initTestMse, referenceMse };
}
