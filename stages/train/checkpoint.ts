/**
 * Per-epoch training checkpoints in the stage's state dir, so an interrupted training resumes
 * from its last finished epoch: μ, W and the optimizer's slots as safetensors, plus the
 * params, backend, epoch and history so far in `__metadata__`.
 *
 * A checkpoint that does not read back (empty, truncated, a bad header or metadata, tensors of
 * the wrong shape or with non-finite values) is removed with a warning and the previous one is
 * tried, so a corrupt file never blocks training.
 *
 * @module
 */
import { join } from "node:path";
import { readSafeTensors, type SafeTensors, writeSafeTensors } from "../lib/safetensors.ts";

/** What a checkpoint holds. */
export interface Checkpoint {
  /** Epochs finished. */
  epoch: number;
  /** mu, W, and `opt/<name>` for each optimizer slot (in the optimizer's order). */
  tensors: SafeTensors["tensors"];
  /** Optimizer slot names in the optimizer's order. */
  optimizerSlots: string[];
  /** The history lines so far. */
  history: Record<string, unknown>[];
  /** Test MSE of the initial parameters. */
  initTestMse: number;
  /** The test MSE a diverged run is judged by (`referenceMse` of stability.ts). */
  referenceMse: number;
}

/** What {@link latestCheckpoint} looks for. */
export interface CheckpointQuery {
  /** Metadata a checkpoint must carry to be resumed from (params, backend). */
  identity: Record<string, string>;
  /** The shapes of μ (K×D) and W (K×D×E) the training expects. */
  shapes: { mu: number[]; W: number[] };
  /** Hears one line per checkpoint skipped because it does not read back. */
  warn(message: string): void;
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
      reference_mse: JSON.stringify(checkpoint.referenceMse),
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
 * Checkpoints of other settings are ignored; corrupt ones are removed with a warning.
 */
export async function latestCheckpoint(
  stateDir: string,
  { identity, shapes, warn }: CheckpointQuery,
): Promise<Checkpoint | undefined> {
  for (const epoch of (await listEpochs(stateDir)).reverse()) {
    const path = join(stateDir, fileName(epoch));
    let file: SafeTensors;
    try {
      file = await readSafeTensors(path);
    } catch (error) {
      await skip(path, (error as Error).message, warn);
      continue;
    }
    const { metadata } = file;
    const fields = typeof metadata === "object" && metadata !== null ? metadata : {};
    if (Object.entries(identity).some(([key, value]) => fields[key] !== value)) continue;
    try {
      return checkpointOf(epoch, file, shapes);
    } catch (error) {
      await skip(path, (error as Error).message, warn);
    }
  }
  return undefined;
}

async function skip(path: string, reason: string, warn: (message: string) => void) {
  const why = reason.startsWith(`${path}: `) ? reason.slice(path.length + 2) : reason;
  warn(`warning: skipping the corrupt checkpoint ${path} (removed): ${why}`);
  await Deno.remove(path).catch(() => {});
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((n, i) => n === b[i]);

/** The checkpoint in `file`, or an error saying what in it does not read back. */
function checkpointOf(
  epoch: number,
  { tensors, metadata }: SafeTensors,
  shapes: CheckpointQuery["shapes"],
): Checkpoint {
  if (metadata.epoch !== String(epoch)) {
    throw new Error(`metadata epoch ${JSON.stringify(metadata.epoch)} is not ${epoch}`);
  }
  const optimizerSlots = parseField(metadata, "optimizer_slots");
  if (!Array.isArray(optimizerSlots) || !optimizerSlots.every((s) => typeof s === "string")) {
    throw new Error("metadata optimizer_slots is not a list of names");
  }
  const history = parseField(metadata, "history");
  if (
    !Array.isArray(history) || history.length !== epoch ||
    !history.every((h) => typeof h === "object" && h !== null && !Array.isArray(h))
  ) {
    throw new Error(`metadata history is not a list of ${epoch} epoch records`);
  }
  const initTestMse = parseField(metadata, "init_test_mse");
  if (typeof initTestMse !== "number") throw new Error("metadata init_test_mse is not a number");
  const referenceMse = parseField(metadata, "reference_mse");
  if (typeof referenceMse !== "number") throw new Error("metadata reference_mse is not a number");
  const expected: Record<string, number[][]> = { mu: [shapes.mu], W: [shapes.W] };
  optimizerSlots.forEach((_, i) => expected[`opt/${i}`] = i === 0 ? [[]] : [shapes.mu, shapes.W]);
  for (const [name, allowed] of Object.entries(expected)) {
    const tensor = tensors[name];
    if (!tensor) throw new Error(`tensor ${name} is missing`);
    if (!allowed.some((shape) => sameShape(tensor.shape, shape))) {
      throw new Error(
        `tensor ${name} has shape [${tensor.shape}], expected ${
          allowed.map((s) => `[${s}]`).join(" or ")
        }`,
      );
    }
    if (tensor.data.length !== tensor.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(
        `tensor ${name} has ${tensor.data.length} values for shape [${tensor.shape}]`,
      );
    }
    if (!tensor.data.every(Number.isFinite)) {
      throw new Error(`tensor ${name} has non-finite values`);
    }
  }
  const extra = Object.keys(tensors).filter((name) => !(name in expected));
  if (extra.length > 0) throw new Error(`unexpected tensors ${extra.join(", ")}`);
  return { epoch, tensors, optimizerSlots, history, initTestMse, referenceMse };
}

function parseField(metadata: Record<string, string>, key: string): unknown {
  if (typeof metadata[key] !== "string") throw new Error(`metadata ${key} is missing`);
  try {
    return JSON.parse(metadata[key]);
  } catch (error) {
    throw new Error(`metadata ${key} is not JSON (${(error as Error).message})`);
  }
}
