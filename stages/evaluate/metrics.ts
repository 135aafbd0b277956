/**
 * The format of the `evaluate` stage's `metrics.json`, shared by its writer and its readers
 * (the `figure` and `report` stages): one zod schema, so a malformed file is an error naming
 * the file and the key.
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
import { readJson } from "../lib/json_file.ts";

const perClass = z.record(z.string(), z.number());

/** Scores of one trained model on the test set. */
export const modelScores = z.object({
  /** K: number of components. */
  components: z.int().positive(),
  /** E: latent dimension. */
  latent_dim: z.int().positive(),
  /** The note's metric: mean over test images of the per-image mean squared pixel error. */
  test_mse: z.number(),
  /** Test MSE within each class, keyed by class name. */
  per_class: perClass,
  /** How many test images choose each component k. */
  usage: z.array(z.int().min(0)),
  /** Fraction of test images whose class is the majority class of their component. */
  purity: z.number(),
  /** Normalized mutual information of the chosen component and the class (arithmetic mean). */
  nmi: z.number(),
  /** The majority class name of each component, null when no test image chose it. */
  majority_class: z.array(z.string().nullable()),
});

/** Scores of a closed-form baseline. */
export const baselineScores = z.object({
  test_mse: z.number(),
  per_class: perClass,
  /** E of a PCA baseline (0 for the mean image). */
  latent_dim: z.int().min(0),
});

/** The whole `metrics.json` of `evaluate`. */
export const evaluationMetrics = z.object({
  /** By training stage name, in config order. */
  models: z.record(z.string(), modelScores),
  baselines: z.object({ mean: baselineScores, pca: baselineScores }),
  /** Number of test images scored. */
  test_images: z.int().positive(),
});

/** Scores of one trained model. */
export type ModelScores = z.infer<typeof modelScores>;
/** Scores of one baseline. */
export type BaselineScores = z.infer<typeof baselineScores>;
/** The parsed `metrics.json` of `evaluate`. */
export type EvaluationMetrics = z.infer<typeof evaluationMetrics>;

/** Reads and validates `metrics.json` in an `evaluate` output directory. */
export async function readEvaluation(dir: string): Promise<EvaluationMetrics> {
  return await readJson(evaluationMetrics, join(dir, "metrics.json"));
}
