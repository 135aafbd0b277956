/**
 * Turns the figure's data (chosen test images, each model's reconstructions and component
 * means, training histories, evaluation scores) into the labelled rows, panels and curves
 * that `spec.ts` lays out.
 *
 * @module
 */
import { CLASS_NAMES } from "../evaluate/classes.ts";
import type { EvaluationMetrics } from "../evaluate/metrics.ts";
import type { HistoryLine } from "../evaluate/training_outputs.ts";
import { enlarge, grayPngDataUri, range, toGray } from "./image.ts";
import type { FigureContent, MeansPanel } from "./spec.ts";
import { NOTE_LLGAE } from "../report/references.ts";

/** One trained model as the figure shows it. */
export interface FigureModel {
  /** Training stage name. */
  stage: string;
  /** Reconstructions of the chosen test images, row-major (chosen × d). */
  recon: Float32Array;
  /** Component means μ_k, row-major (K × d). */
  mu: Float32Array;
  /** The training stage's per-epoch history. */
  history: HistoryLine[];
}

/** What the figure is made from. */
export interface FigureInputs {
  /** Test images, row-major (n × d), and their labels. */
  images: Float32Array;
  labels: Uint8Array;
  /** Indices of the chosen test images (grid columns). */
  picked: Int32Array;
  models: FigureModel[];
  evaluation: EvaluationMetrics;
  /** Side of a displayed image in SVG pixels (a multiple of the image side). */
  cell: number;
}

/** `LGAE K=1 (train_lgae)` / `LLGAE K=11 (train_llgae)`. */
export function modelLabel(stage: string, components: number): string {
  return `${components > 1 ? "LLGAE" : "LGAE"} K=${components} (${stage})`;
}

function imageUri(
  pixels: Float32Array,
  lo: number,
  hi: number,
  side: number,
  cell: number,
): string {
  return grayPngDataUri(enlarge(toGray(pixels, lo, hi), side, cell / side), cell);
}

/** The figure's rows, panels, curves and references. */
export function figureContent(inputs: FigureInputs): FigureContent {
  const { images, labels, picked, models, evaluation, cell } = inputs;
  const d = images.length / labels.length;
  const side = Math.round(Math.sqrt(d));
  if (side * side !== d) throw new Error(`figure: images of ${d} pixels are not square`);
  if (cell % side !== 0) {
    throw new Error(`figure: cell ${cell} is not a multiple of the image side ${side}`);
  }
  const scoresOf = (stage: string) => {
    const scores = evaluation.models[stage];
    if (!scores) throw new Error(`figure: the evaluation has no scores for model ${stage}`);
    return scores;
  };

  // Every image in a column shares the original's gray scale, so reconstructions are judged
  // against the original rather than stretched to their own contrast.
  const originals = Array.from(picked, (i) => images.subarray(i * d, (i + 1) * d));
  const scales = originals.map((pixels) => range(pixels));
  const row = (label: string, rowsOf: (j: number) => Float32Array) => ({
    label,
    images: scales.map(([lo, hi], j) => imageUri(rowsOf(j), lo, hi, side, cell)),
  });
  const rows = [
    row("Original", (j) => originals[j]),
    ...models.map((m) =>
      row(
        modelLabel(m.stage, scoresOf(m.stage).components),
        (j) => m.recon.subarray(j * d, (j + 1) * d),
      )
    ),
  ];

  const means: MeansPanel[] = models.filter((m) => scoresOf(m.stage).components > 1).map((m) => {
    const scores = scoresOf(m.stage);
    // One gray scale for all μ_k of a model, so faint means look faint rather than stretched.
    const [lo, hi] = range(m.mu);
    return {
      title: `Component means μ_k of ${modelLabel(m.stage, scores.components)}`,
      subtitle: "under each: k (test images choosing k) and their majority class; one gray scale",
      cells: Array.from({ length: scores.components }, (_, k) => ({
        uri: imageUri(m.mu.subarray(k * d, (k + 1) * d), lo, hi, side, cell),
        label: `k=${k + 1} (${scores.usage[k]})`,
        caption: scores.majority_class[k] ?? "unused",
      })),
    };
  });

  const curves = models.flatMap((m) =>
    m.history.map((h) => ({
      model: modelLabel(m.stage, scoresOf(m.stage).components),
      epoch: h.epoch,
      test_mse: h.test_mse,
    }))
  );
  const pca = evaluation.baselines.pca;
  const references = [
    { label: `note's LLGAE: ${NOTE_LLGAE.value}`, value: NOTE_LLGAE.value },
    {
      label: `PCA E=${pca.latent_dim}, closed form (ours): ${pca.test_mse.toFixed(1)}`,
      value: pca.test_mse,
    },
  ];
  const scoreText = models.map((m) => `${m.stage} ${scoresOf(m.stage).test_mse.toFixed(1)}`);
  return {
    title: "LGAE vs LLGAE on Fashion-MNIST (test set)",
    subtitle: `test MSE per pixel (0–255 scale): ${scoreText.join(" · ")} · ` +
      `PCA E=${pca.latent_dim} ${pca.test_mse.toFixed(1)} · note's LLGAE ${NOTE_LLGAE.value}`,
    columns: Array.from(picked, (i) => CLASS_NAMES[labels[i]]),
    rows,
    means,
    curves,
    references,
    cell,
  };
}
