import assert from "node:assert/strict";
import {
  type Fingerprint,
  fingerprintChanges,
  volatileOutputs,
} from "../pipeline/rebuilder/fingerprint.ts";
import { describeReason } from "../pipeline/rebuilder/reasons.ts";
import { metricDrifts } from "../pipeline/store/lock_drift.ts";
import type { LockFile } from "../pipeline/store/lockfile.ts";
import { schedule, Semaphore } from "../pipeline/scheduler/dag.ts";
import { StateWriter } from "../pipeline/store/state_writer.ts";

const base: Fingerprint = {
  engine: "1",
  stage: "train",
  uses: "train",
  params: { lr: 0.01, opt: { beta: 0.9 } },
  inputs: { data: [{ stage: "shuffle", outputs: { "a.npy": "1", "b.npy": "2" } }] },
  code: { "stages/train/run.ts": "x", "stages/lib/npy.ts": "y" },
  npm: { zod: "4.6.7" },
  runtime: { backend: "wasm" },
  deno: "2.9.6",
  platform: "linux-x86_64",
};

Deno.test("fingerprint: fingerprintChanges names each changed param, input file, module, npm version and runtime setting", () => {
  const now: Fingerprint = {
    ...base,
    params: { lr: 0.02, opt: { beta: 0.9 } },
    inputs: { data: [{ stage: "shuffle", outputs: { "a.npy": "1", "b.npy": "3" } }] },
    code: { "stages/train/run.ts": "x", "stages/lib/npy.ts": "z", "stages/lib/new.ts": "n" },
    npm: { zod: "4.7.0" },
    runtime: { backend: "blas" },
  };
  assert.deepEqual(fingerprintChanges(base, now).map(describeReason), [
    "param lr: 0.01 → 0.02",
    "input data: shuffle outputs changed (b.npy)",
    "module stages/lib/new.ts added",
    "module stages/lib/npy.ts changed",
    "npm zod: 4.6.7 → 4.7.0",
    "runtime backend: wasm → blas",
  ]);
  assert.deepEqual(fingerprintChanges(base, structuredClone(base)), []);
});

Deno.test("fingerprint: a volatile output the kind does not declare is an error naming the kind file", () => {
  const stage = {
    name: "train_llgae",
    uses: "train",
    needs: {},
    params: {},
    kindDir: "stages/train",
    kind: { outputs: () => ["model.safetensors", "metrics.json"] },
  };
  const declaring = (names: string[]) => ({
    ...stage,
    kind: { ...stage.kind, volatileOutputs: () => names },
  });
  assert.deepEqual(volatileOutputs(declaring(["metrics.json"])), ["metrics.json"]);
  assert.throws(
    () => volatileOutputs(declaring(["log.txt"])),
    /kind train: volatileOutputs names log\.txt, which outputs\(\) does not declare \(declared: model\.safetensors, metrics\.json\); fix stages\/train\/kind\.ts/,
  );
});

function lockWith(metrics: unknown): LockFile {
  const stage = {
    uses: "t",
    key: "k",
    params: {},
    codeDigest: "c",
    runtime: {},
    outputs: {},
    metrics,
  };
  return { config: "c.yaml", digest: "d", versions: {}, stages: { train: stage } };
}

Deno.test("check: numbers within the relative tolerance pass, others drift; timing keys are skipped", () => {
  const locked = lockWith({ test_mse: 768, usage: [5, 6], train_seconds: 10, backend: "wasm" });
  const same = lockWith({
    test_mse: 768 * (1 + 5e-7),
    usage: [5, 6],
    train_seconds: 99,
    backend: "wasm",
  });
  assert.deepEqual(metricDrifts(locked, same, 1e-6), []);
  const off = lockWith({ test_mse: 769, usage: [5, 7], train_seconds: 10, backend: "blas" });
  const drifts = metricDrifts(locked, off, 1e-6);
  assert.deepEqual(drifts.map((d) => d.key), ["train.test_mse", "train.usage.1", "train.backend"]);
  assert.ok(Math.abs(drifts[0].rel! - 1 / 769) < 1e-12);
  assert.deepEqual(
    metricDrifts(locked, lockWith({ test_mse: 768, usage: [5, 6] }), 1e-6).map((d) => d.key),
    [
      "train.backend",
    ],
  );
});

Deno.test("scheduler: a failure skips its transitive dependants only; the semaphore bounds concurrency", async () => {
  const slots = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const skipped: string[] = [];
  const results = await schedule(
    [
      { name: "a", deps: [] },
      { name: "b", deps: [] },
      { name: "c", deps: [] },
      { name: "d", deps: ["a"] },
      { name: "e", deps: ["d", "b"] },
      { name: "f", deps: ["c"] },
    ],
    (name) =>
      slots.with(async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return name !== "a";
      }),
    (name, dep) => skipped.push(`${name}<-${dep}`),
  );
  assert.deepEqual(Object.fromEntries(results), {
    a: "failed",
    b: "ok",
    c: "ok",
    d: "skipped",
    e: "skipped",
    f: "ok",
  });
  assert.deepEqual(skipped, ["d<-a", "e<-d"]);
  assert.equal(peak, 2);
});

Deno.test("semaphore: ready tasks start in rank order; a held earlier place makes later ranks wait", async () => {
  const slots = new Semaphore(1);
  const started: string[] = [];
  const task = (name: string) => () => {
    started.push(name);
    return new Promise<void>((r) => setTimeout(r, 5));
  };
  // Rank 0 still looks itself up while ranks 2 and 1 ask for the one slot.
  const first = slots.hold(0);
  const runs = [slots.with(task("c"), 1, slots.hold(2)), slots.with(task("b"), 1, slots.hold(1))];
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(started, [], "nothing starts while rank 0 holds its place");
  runs.push(slots.with(task("a"), 1, first));
  await Promise.all(runs);
  assert.deepEqual(started, ["a", "b", "c"]);
  // A released place (a cached stage) lets the others go; unranked tasks come after ranked ones.
  const cached = slots.hold(0);
  const more = [slots.with(task("late")), slots.with(task("d"), 1, slots.hold(3))];
  cached.release();
  cached.release();
  await Promise.all(more);
  assert.deepEqual(started.slice(3), ["d", "late"]);
});

Deno.test("state writer: saves asked while one is under way land in order, the last change last", async () => {
  const dir = await Deno.makeTempDir({ prefix: "state_writer_" });
  try {
    const path = `${dir}/state/memo.json`;
    let state = 0;
    const writer = new StateWriter(path, async () => {
      const snapshot = String(state);
      // A slow first write: without one write at a time, the second would land first.
      if (snapshot === "1") await new Promise((r) => setTimeout(r, 50));
      return snapshot;
    });
    await writer.save(); // nothing changed: nothing written
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    state = 1;
    writer.changed();
    const first = writer.save();
    await new Promise((r) => setTimeout(r, 10));
    state = 2;
    writer.changed();
    await Promise.all([first, writer.save()]);
    assert.equal(await Deno.readTextFile(path), "2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
