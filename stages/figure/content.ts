/**
 * Turns the figure's data (chosen test images, each model's reconstructions and component
 * means, training histories, evaluation scores) into the labelled rows, panels and curves
 * that `spec.ts` lays out.
 *
 * @module
 */
import { CLASS_NAMES } from "../evaluate/classes.ts";
import type { EvaluationMetrics } from "../evaluate/metrics.ts";
import type { HistoryLine, TrainMetrics } from "../train/outputs.ts";
import type { SplitSizes } from "../shuffle/outputs.ts";
import { enlarge, grayPngDataUri, range, toGray } from "./image.ts";
import type { CurvePanel, FigureContent, MeansPanel } from "./spec.ts";
import { NOTE_LLGAE } from "../lib/note.ts";

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
  /** The training stage's `metrics.json` (init, epochs, test MSE after init). */
  train: TrainMetrics;
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
  /** Images in each split of the data the models were trained and scored on. */
  splits: SplitSizes;
  /** Side of a displayed image in SVG pixels (a multiple of the image side). */
  cell: number;
}

/** The full Fashion-MNIST splits the note trained and scored on. */
const FULL = { train: 60000, test: 10000 };

/** `LGAE (K = 1)` / `LLGAE (K = 11)`. */
export function modelLabel(components: number): string {
  return `${components > 1 ? "LLGAE" : "LGAE"} (K = ${components})`;
}

/** How a training started, as a reader of the note calls it. */
export function protocolLabel(train: TrainMetrics): string {
  return train.init === "random" ? "random init" : "k-means/PCA init";
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

const count = (n: number) => n.toLocaleString("en-US");

/** One line saying what data and epochs the figure's models used. */
function dataLine(models: FigureModel[], splits: SplitSizes): string {
  const epochs = [...new Set(models.map((m) => m.train.epochs))].sort((a, b) => a - b);
  const subset = splits.train < FULL.train || splits.test < FULL.test;
  return `trained on ${count(splits.train)} Fashion-MNIST images for ${
    epochs.join(" and ")
  } epochs, scored on ${count(splits.test)} test images` +
    (subset
      ? `: a subset, not comparable with the note's ${NOTE_LLGAE.value} ` +
        `(${count(FULL.train)} images, epoch ${NOTE_LLGAE.epoch})`
      : "");
}

/** The figure's rows, panels, curves and references. */
export function figureContent(inputs: FigureInputs): FigureContent {
  const { images, labels, picked, models, evaluation, splits, cell } = inputs;
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
  const protocols = new Set(models.map((m) => m.train.init));
  // The protocol joins the label only when the figure shows more than one.
  const labelOf = (m: FigureModel) =>
    modelLabel(scoresOf(m.stage).components) +
    (protocols.size > 1 ? `, ${protocolLabel(m.train)}` : "");

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
    ...models.map((m) => row(labelOf(m), (j) => m.recon.subarray(j * d, (j + 1) * d))),
  ];

  const means: MeansPanel[] = models.filter((m) => scoresOf(m.stage).components > 1).map((m) => {
    const scores = scoresOf(m.stage);
    // One gray scale for all μ_k of a model, so faint means look faint rather than stretched.
    const [lo, hi] = range(m.mu);
    return {
      title: `Component means μ_k of ${labelOf(m)}`,
      subtitle: "under each: k (test images choosing k) and their majority class; one gray scale",
      cells: Array.from({ length: scores.components }, (_, k) => ({
        uri: imageUri(m.mu.subarray(k * d, (k + 1) * d), lo, hi, side, cell),
        label: `k=${k + 1} (${scores.usage[k]})`,
        caption: scores.majority_class[k] ?? "unused",
      })),
    };
  });

  // Curves: one panel per model family, so each y range shows its own curves' shape.
  const pca = evaluation.baselines.pca;
  const curveOf = (m: FigureModel) => [
    { model: labelOf(m), epoch: 0, test_mse: m.train.init_test_mse },
    ...m.history.map((h) => ({ model: labelOf(m), epoch: h.epoch, test_mse: h.test_mse })),
  ];
  const family = (mixture: boolean) =>
    models.filter((m) => (scoresOf(m.stage).components > 1) === mixture);
  const curves: CurvePanel[] = [];
  if (family(false).length > 0) {
    curves.push({
      title: "LGAE: test MSE per epoch (epoch 0 = initial parameters)",
      points: family(false).flatMap(curveOf),
      references: [{
        label: `PCA, E = ${pca.latent_dim} (closed form, same data): ${pca.test_mse.toFixed(1)}`,
        value: pca.test_mse,
      }],
      marks: [],
    });
  }
  if (family(true).length > 0) {
    curves.push({
      title: "LLGAE: test MSE per epoch (epoch 0 = initial parameters)",
      points: family(true).flatMap(curveOf),
      references: [],
      marks: [{
        label: `the note: ${NOTE_LLGAE.value} at epoch ${NOTE_LLGAE.epoch}`,
        epoch: NOTE_LLGAE.epoch,
        value: NOTE_LLGAE.value,
      }],
    });
  }
  const scoreText = models.map((m) => `${labelOf(m)} ${scoresOf(m.stage).test_mse.toFixed(1)}`);
  return {
    title: "LGAE vs LLGAE on Fashion-MNIST (test set)",
    subtitle: [
      `test MSE per pixel (0–255 scale): ${scoreText.join(" · ")}`,
      `references: PCA E = ${pca.latent_dim} ${pca.test_mse.toFixed(1)} (closed form) · ` +
      `the note's LLGAE ${NOTE_LLGAE.value} (epoch ${NOTE_LLGAE.epoch})`,
      dataLine(models, splits),
    ],
    columns: Array.from(picked, (i) => CLASS_NAMES[labels[i]]),
    rows,
    means,
    curves,
    cell,
  };
}
