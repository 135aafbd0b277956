/**
 * Runs the `evaluate` stage: every trained model's forward pass over the test set, scored
 * (test MSE, per class, component usage, purity, NMI), and the closed-form mean-image and PCA
 * baselines fitted on the training split. Writes `metrics.json`.
 *
 * @module
 */
import { join } from "node:path";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { principalSubspace } from "../lib/pca.ts";
import { initBackend } from "../lib/tf_backend.ts";
import { loadModel, reconstruct } from "../train/model.ts";
import { meanImage, projectionErrors } from "./baselines.ts";
import { readSplit } from "../shuffle/outputs.ts";
import type { EvaluateParams } from "./kind.ts";
import type { EvaluationMetrics, ModelScores } from "./metrics.ts";
import { summarizeErrors } from "./scores.ts";
import { scoreModel } from "./score_model.ts";
import { readTrainMetrics } from "../train/outputs.ts";

/** Writes `metrics.json` into `ctx.outDir`. */
export async function run(ctx: StageContext<EvaluateParams>): Promise<void> {
  const backend = await initBackend(ctx.params.backend);
  const dataDir = ctx.input("data");
  const train = await readSplit(dataDir, "train");
  const test = await readSplit(dataDir, "test");
  ctx.log(`backend ${backend}; ${train.n} training and ${test.n} test images`);
  const models = ctx.inputs.models ?? [];
  const steps = models.length + 2;

  const scores: Record<string, ModelScores> = {};
  for (const [i, { stage, dir }] of models.entries()) {
    ctx.progress({ done: i, total: steps, message: `scoring ${stage}` });
    const model = await loadModel(join(dir, "model.safetensors"));
    const pass = reconstruct(model, test.images, test.n);
    scores[stage] = scoreModel(pass, test.labels, model.components, model.latentDim);
    const trained = await readTrainMetrics(dir);
    ctx.log(
      `${stage}: test MSE ${scores[stage].test_mse.toFixed(2)} ` +
        `(training stage reported ${trained.test_mse.toFixed(2)}), NMI ${
          scores[stage].nmi.toFixed(3)
        }`,
    );
  }

  ctx.progress({ done: models.length, total: steps, message: "mean-image baseline" });
  const mean = meanImage(train.images, train.n, train.d);
  const meanErrors = projectionErrors(test.images, test.n, test.d, mean, new Float32Array(0), 0);

  ctx.progress({ done: models.length + 1, total: steps, message: `PCA E=${ctx.params.pca_dims}` });
  const pca = principalSubspace(train.images, train.n, train.d, ctx.params.pca_dims, {
    seed: ctx.params.pca_seed,
  });
  const pcaErrors = projectionErrors(
    test.images,
    test.n,
    test.d,
    pca.mean,
    pca.components,
    ctx.params.pca_dims,
  );

  const metrics: EvaluationMetrics = {
    models: scores,
    baselines: {
      mean: { ...summarizeErrors(meanErrors, test.labels), latent_dim: 0 },
      pca: { ...summarizeErrors(pcaErrors, test.labels), latent_dim: ctx.params.pca_dims },
    },
    test_images: test.n,
  };
  ctx.log(
    `baselines: mean image ${metrics.baselines.mean.test_mse.toFixed(2)}, ` +
      `PCA E=${ctx.params.pca_dims} ${metrics.baselines.pca.test_mse.toFixed(2)}`,
  );
  await writeFileAtomic(join(ctx.outDir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  ctx.progress({ done: steps, total: steps });
}
