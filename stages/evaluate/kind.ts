/**
 * The `evaluate` stage kind: scores every trained model and two closed-form baselines (the
 * mean image; PCA with E components) on the test set — the note's test MSE, MSE per class,
 * component usage, and purity / NMI of the chosen component against the class label.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";
import { backendParam, backendRequest } from "../lib/backend_param.ts";

/** Params of `evaluate` (`with:`). */
export const evaluateParams = z.strictObject({
  /** tfjs backend for the models' forward pass. */
  backend: backendParam,
  /** Latent dimension E of the PCA baseline (the note's models use 20). */
  pca_dims: z.int().min(1).max(784).default(20),
  /** Seed of the PCA subspace iteration's starting block. */
  pca_seed: z.int().default(28),
});

/** Validated params of `evaluate`. */
export type EvaluateParams = z.infer<typeof evaluateParams>;

/** The `evaluate` stage kind. */
export const kind: StageKind<EvaluateParams> = {
  description: "test MSE (overall, per class), component usage, purity and NMI; mean/PCA baselines",
  params: evaluateParams,
  inputs: {
    data: { description: "shuffle output: train_* and test_* images (.npy) and labels" },
    models: { description: "train outputs: model.safetensors (+ metrics.json)", many: true },
  },
  outputs: () => ["metrics.json"],
  runtime: backendRequest,
  /**
   * Default resources; a config's `resources:` overrides them. OpenBLAS runs on `cpus` threads:
   * one, because a second made the note's evaluation no faster (1.8 s on one thread or two,
   * `--set stages.evaluate.resources.cpus=N --force evaluate`) while it kept a second stage of
   * a sweep from running beside it.
   */
  resources: () => ({ cpus: 1, mem: "4G", time: "30m" }),
};
