import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { encodeSafeTensors } from "../stages/lib/safetensors.ts";
import { type Checkpoint, latestCheckpoint, saveCheckpoint } from "../stages/train/checkpoint.ts";

const identity = { params: '{"components":2}', backend: "wasm" };
const shapes = { mu: [2, 3], W: [2, 3, 1] };

function checkpoint(epoch: number): Checkpoint {
  const values = (n: number) => Float32Array.from({ length: n }, (_, i) => epoch + i / 10);
  return {
    epoch,
    tensors: {
      mu: { data: values(6), shape: shapes.mu },
      W: { data: values(6), shape: shapes.W },
      "opt/0": { data: Float32Array.of(epoch * 3), shape: [] },
      "opt/1": { data: values(6), shape: shapes.mu },
      "opt/2": { data: values(6), shape: shapes.W },
    },
    optimizerSlots: ["iter", "mu/rms", "W/rms"],
    history: Array.from({ length: epoch }, (_, i) => ({ epoch: i + 1, test_mse: 10 - i })),
    initTestMse: 12.5,
    referenceMse: 40.25,
  };
}

/** A state dir with good checkpoints of epochs 1 and 2. */
async function stateDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "checkpoint-test-" });
  for (const epoch of [1, 2]) await saveCheckpoint(dir, identity, checkpoint(epoch));
  return dir;
}

/** The bytes of a checkpoint of epoch 2 with `change` applied to what it holds. */
function variant(change: (c: Checkpoint, metadata: Record<string, string>) => void): Uint8Array {
  const c = checkpoint(2);
  const metadata: Record<string, string> = {
    ...identity,
    epoch: "2",
    optimizer_slots: JSON.stringify(c.optimizerSlots),
    history: JSON.stringify(c.history),
    init_test_mse: "12.5",
    reference_mse: "40.25",
  };
  change(c, metadata);
  return encodeSafeTensors({ tensors: c.tensors, metadata });
}

const good = variant(() => {});
const header = new TextEncoder().encode("{not json");
const badHeader = new Uint8Array(8 + header.length);
new DataView(badHeader.buffer).setBigUint64(0, BigInt(header.length), true);
badHeader.set(header, 8);

const CORRUPTIONS: [string, Uint8Array, RegExp][] = [
  ["empty", new Uint8Array(0), /too short to be a safetensors file/],
  ["truncated", good.subarray(0, good.length - 7), /truncated/],
  ["header length past the end", good.subarray(0, 20), /runs past the end/],
  ["bad header JSON", badHeader, /JSON/],
  [
    "wrong W shape",
    variant((c) => c.tensors.W = { data: new Float32Array(8), shape: [2, 4, 1] }),
    /tensor W has shape \[2,4,1\], expected \[2,3,1\]/,
  ],
  ["missing slot", variant((c) => delete c.tensors["opt/2"]), /tensor opt\/2 is missing/],
  [
    "non-finite values",
    variant((c) => c.tensors.mu.data[0] = NaN),
    /tensor mu has non-finite values/,
  ],
  ["history not JSON", variant((_, m) => m.history = "[{"), /metadata history is not JSON/],
  ["history too short", variant((_, m) => m.history = "[]"), /not a list of 2 epoch records/],
  ["slots not a list", variant((_, m) => m.optimizer_slots = "3"), /optimizer_slots/],
  ["init MSE missing", variant((_, m) => delete m.init_test_mse), /init_test_mse is missing/],
];

Deno.test("checkpoint: a good latest checkpoint reads back as written", async () => {
  const dir = await stateDir();
  const warnings: string[] = [];
  const latest = await latestCheckpoint(dir, { identity, shapes, warn: (m) => warnings.push(m) });
  deepStrictEqual(latest, checkpoint(2));
  deepStrictEqual(warnings, []);
  await Deno.remove(dir, { recursive: true });
});

for (const [what, bytes, reason] of CORRUPTIONS) {
  Deno.test(`checkpoint: a corrupt latest checkpoint (${what}) is skipped with a warning naming it; epoch 1 resumes`, async () => {
    const dir = await stateDir();
    const path = join(dir, "epoch-00002.safetensors");
    await Deno.writeFile(path, bytes);
    const warnings: string[] = [];
    const latest = await latestCheckpoint(dir, { identity, shapes, warn: (m) => warnings.push(m) });
    deepStrictEqual(latest, checkpoint(1));
    strictEqual(warnings.length, 1, warnings.join("\n"));
    ok(warnings[0].includes(path), warnings[0]);
    ok(reason.test(warnings[0]), `${warnings[0]} should match ${reason}`);
    strictEqual(await Deno.stat(path).catch(() => "gone"), "gone", "the corrupt file is removed");
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("checkpoint: when every checkpoint is corrupt, training starts over", async () => {
  const dir = await stateDir();
  for (const epoch of [1, 2]) {
    await Deno.writeFile(join(dir, `epoch-0000${epoch}.safetensors`), new Uint8Array(3));
  }
  const warnings: string[] = [];
  strictEqual(
    await latestCheckpoint(dir, { identity, shapes, warn: (m) => warnings.push(m) }),
    undefined,
  );
  strictEqual(warnings.length, 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint: one of other settings is passed over silently and kept", async () => {
  const dir = await stateDir();
  const warnings: string[] = [];
  const other = { ...identity, backend: "blas" };
  strictEqual(
    await latestCheckpoint(dir, { identity: other, shapes, warn: (m) => warnings.push(m) }),
    undefined,
  );
  deepStrictEqual(warnings, []);
  ok(await Deno.stat(join(dir, "epoch-00002.safetensors")));
  await Deno.remove(dir, { recursive: true });
});
