/**
 * The summary files the `train` stage writes beside `model.safetensors`, as their readers
 * (evaluate, figure, report) see them: `metrics.json` (final summary) and `history.jsonl` (one
 * line per epoch). Only the fields downstream stages use are checked; errors name the file, the
 * line and the key. (run.ts still writes them as literals: typing them with these schemas
 * changes the train stage's code digest, so it waits for the next retraining.)
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
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

/** Reads `metrics.json` of a `train` output directory. */
export async function readTrainMetrics(dir: string): Promise<TrainMetrics> {
  return await readJson(trainMetrics, join(dir, "metrics.json"));
}

/** Reads `history.jsonl` of a `train` output directory, one entry per non-empty line. */
export async function readHistory(dir: string): Promise<HistoryLine[]> {
  const path = join(dir, "history.jsonl");
  const lines = (await Deno.readTextFile(path)).split("\n");
  return lines.flatMap((line, i) =>
    line.trim() === "" ? [] : [parseJson(historyLine, line, `${path}:${i + 1}`)]
  );
}
