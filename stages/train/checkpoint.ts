/**
 * Per-epoch training checkpoints in the stage's state dir, so an interrupted training resumes
 * from its last finished epoch: μ, W and the optimizer's slots as safetensors, plus the
 * params, backend, epoch and history so far in `__metadata__`.
 *
 * @module
 */
import { join } from "node:path";
import { readSafeTensors, type SafeTensors, writeSafeTensors } from "../lib/safetensors.ts";
import type { HistoryRecord } from "./outputs.ts";

/** What a checkpoint holds. */
export interface Checkpoint {
  /** Epochs finished. */
  epoch: number;
  /** mu, W, and `opt/<name>` for each optimizer slot (in the optimizer's order). */
  tensors: SafeTensors["tensors"];
  /** Optimizer slot names in the optimizer's order. */
  optimizerSlots: string[];
  /** The history lines so far. */
  history: HistoryRecord[];
  /** Test MSE of the initial parameters. */
  initTestMse: number;
}

const KEEP = 2;

const fileName = (epoch: number) => `epoch-${String(epoch).padStart(5, "0")}.safetensors`;

/** Writes the checkpoint of `epoch` and removes all but the last two. */
export async function saveCheckpoint(
  stateDir: string,
  identity: Record<string, string>,
  checkpoint: Checkpoint,
): Promise<void> {
  await writeSafeTensors(join(stateDir, fileName(checkpoint.epoch)), {
    tensors: checkpoint.tensors,
    metadata: {
      ...identity,
      epoch: String(checkpoint.epoch),
      optimizer_slots: JSON.stringify(checkpoint.optimizerSlots),
      history: JSON.stringify(checkpoint.history),
      init_test_mse: JSON.stringify(checkpoint.initTestMse),
    },
  });
  const old = (await listEpochs(stateDir)).slice(0, -KEEP);
  for (const epoch of old) await Deno.remove(join(stateDir, fileName(epoch)));
}

async function listEpochs(stateDir: string): Promise<number[]> {
  const epochs: number[] = [];
  for await (const entry of Deno.readDir(stateDir)) {
    const match = /^epoch-(\d+)\.safetensors$/.exec(entry.name);
    if (match) epochs.push(Number(match[1]));
  }
  return epochs.sort((a, b) => a - b);
}

/**
 * The latest checkpoint whose metadata matches `identity` (params, backend), or undefined.
 * Checkpoints of other settings are ignored.
 */
export async function latestCheckpoint(
  stateDir: string,
  identity: Record<string, string>,
): Promise<Checkpoint | undefined> {
  for (const epoch of (await listEpochs(stateDir)).reverse()) {
    const { tensors, metadata } = await readSafeTensors(join(stateDir, fileName(epoch)));
    if (Object.entries(identity).some(([key, value]) => metadata[key] !== value)) continue;
    return {
      epoch,
      tensors,
      optimizerSlots: JSON.parse(metadata.optimizer_slots),
      history: JSON.parse(metadata.history),
      initTestMse: JSON.parse(metadata.init_test_mse),
    };
  }
  return undefined;
}
