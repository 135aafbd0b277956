/**
 * The summary files the `train` stage writes beside `model.safetensors`, as their readers
 * (evaluate, figure, report) see them: `metrics.json` (final summary) and `history.jsonl` (one
 * line per epoch). Only the fields downstream stages use are checked; errors name the file, the
 * line and the key. The writer (run.ts) goes through {@link writeMetrics} and
 * {@link writeHistory}, whose record types extend the readers' schemas.
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { parseJson, readJson } from "../lib/json_file.ts";

/** The fields of a training stage's `metrics.json` used by evaluate, figure and report. */
export const trainMetrics = z.looseObject({
  test_mse: z.number(),
  /** Test MSE of the initial parameters (epoch 0). */
  init_test_mse: z.number(),
  /** `random` or `data`. */
  init: z.string(),
  epochs: z.int().min(0),
  components: z.int().positive(),
  latent_dim: z.int().positive(),
  train_seconds: z.number().min(0),
});

/** One epoch of `history.jsonl`. */
export const historyLine = z.looseObject({
  epoch: z.int().min(0),
  test_mse: z.number(),
  train_loss: z.number(),
  /** Test images choosing each component after the epoch. */
  usage: z.array(z.int().min(0)).optional(),
});

/** Parsed training `metrics.json`. */
export type TrainMetrics = z.infer<typeof trainMetrics>;
/** One parsed line of `history.jsonl`. */
export type HistoryLine = z.infer<typeof historyLine>;

/** One epoch as run.ts writes it: the checked fields plus the epoch's wall time. */
export type HistoryRecord = HistoryLine & { usage: number[]; seconds: number };

/** `metrics.json` as run.ts writes it: the checked fields plus the run's settings. */
export type MetricsRecord = TrainMetrics & {
  train_loss: number;
  steps: number;
  beta: number;
  latent_decay: number;
  optimizer: string;
  lr: number;
  batch_size: number;
  seed: number;
  backend: string;
  /** Test images choosing each component after the last epoch. */
  usage: number[];
};

/** Writes `metrics.json` into the `train` output directory `dir` (keys in `metrics`' order). */
export async function writeMetrics(dir: string, metrics: MetricsRecord): Promise<void> {
  await writeFileAtomic(join(dir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
}

/** Writes `history.jsonl` into the `train` output directory `dir`, one line per epoch. */
export async function writeHistory(dir: string, history: HistoryRecord[]): Promise<void> {
  await writeFileAtomic(
    join(dir, "history.jsonl"),
    history.map((h) => JSON.stringify(h)).join("\n") + "\n",
  );
}

/** Reads `metrics.json` of a `train` output directory. */
export async function readTrainMetrics(dir: string): Promise<TrainMetrics> {
  return await readJson(trainMetrics, join(dir, "metrics.json"));
}

/** Parses the text of a `history.jsonl` read from `source`, one entry per non-empty line. */
export function parseHistory(text: string, source: string): HistoryLine[] {
  return text.split("\n").flatMap((line, i) =>
    line.trim() === "" ? [] : [parseJson(historyLine, line, `${source}:${i + 1}`)]
  );
}

/** Reads `history.jsonl` of a `train` output directory, one entry per non-empty line. */
export async function readHistory(dir: string): Promise<HistoryLine[]> {
  const path = join(dir, "history.jsonl");
  return parseHistory(await Deno.readTextFile(path), path);
}
