import assert from "node:assert/strict";
import { join } from "node:path";
import { collect, ranStages, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";
import { sha256File } from "../common/sha256.ts";

const CONFIG = "configs/six.yaml";
const SLOW_A = SIX_STAGES.replace("with: { value: 1 }", "with: { value: 1, sleep_ms: 4000 }");

/** Files under `dir` (recursively), absolute. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) out.push(...await filesUnder(path));
      else out.push(path);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** Asserts every object's bytes hash to its name. */
async function assertStoreConsistent(p: TestProject): Promise<void> {
  const objects = (await filesUnder(p.path("artifacts/objects"))).filter((f) =>
    /[0-9a-f]{64}$/.test(f)
  );
  for (const f of objects) {
    assert.equal(await sha256File(f), f.split("/").pop(), `object ${f} is corrupt`);
  }
}

async function waitFor(what: string, test: () => Promise<boolean>, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until stage `a` has checkpointed and half-written its output in its run dir. */
async function waitForHalfWrite(p: TestProject): Promise<void> {
  await waitFor("a's checkpoint and half-written output", async () => {
    const state = await filesUnder(p.path("artifacts/state"));
    if (!state.some((f) => f.endsWith("/checkpoint"))) return false;
    const partial = (await filesUnder(p.path("artifacts/tmp"))).find((f) =>
      f.endsWith("/a/out/data.txt")
    );
    return partial !== undefined && (await Deno.readTextFile(partial)) === "1\n2";
  });
}

/** True while any process still has the project in its command line (a stage subprocess). */
async function stageProcessesAlive(p: TestProject): Promise<boolean> {
  const out = await new Deno.Command("pgrep", { args: ["-f", p.root], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim() !== "";
}

Deno.test("safety: a stage killed mid-write leaves the store consistent and the next run resumes it", async () => {
  const p = await TestProject.create({ "six.yaml": SLOW_A });
  try {
    const engine = p.spawn(["run", CONFIG]);
    await waitForHalfWrite(p); // "1\n2", half of "1\n2\n3\n", in a's run dir
    engine.kill("SIGKILL"); // a crash: no cleanup code runs in the engine
    await engine.output();
    await waitFor("the orphaned stage to exit", async () => !(await stageProcessesAlive(p)), 10000);
    await assertStoreConsistent(p);
    await assert.rejects(Deno.stat(p.path("artifacts/out/six/a")), Deno.errors.NotFound);

    const next = await p.cli("run", CONFIG);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /a \| resuming from checkpoint/);
    assert.ok(ranStages(next).includes("a"));
    assert.equal(await p.read("artifacts/out/six/a/data.txt"), "1\n2\n3\n");
    assert.deepEqual(
      await filesUnder(p.path("artifacts/state")),
      [],
      "state is removed after success",
    );
    await assertStoreConsistent(p);
  } finally {
    await p.dispose();
  }
});

Deno.test("safety: SIGINT stops running stages, exits 130 and writes no lock file", async () => {
  const p = await TestProject.create({ "six.yaml": SLOW_A });
  try {
    const engine = p.spawn(["run", CONFIG]);
    await waitForHalfWrite(p);
    engine.kill("SIGINT");
    const r = collect(await engine.output());
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    assert.equal(await stageProcessesAlive(p), false, "no stage subprocess survives");
    await assert.rejects(Deno.stat(p.path("configs/six.lock.json")), Deno.errors.NotFound);
    assert.deepEqual(await filesUnder(p.path("artifacts/tmp")), []);
    await assertStoreConsistent(p);
  } finally {
    await p.dispose();
  }
});

Deno.test("safety: two concurrent runs on one artifacts dir — each stage is computed once; the second waits for the key the first is computing, says who holds it, and reuses it", async () => {
  const slow = SIX_STAGES.replace("with: { value: 1 }", "with: { value: 1, sleep_ms: 1500 }");
  const p = await TestProject.create({ "six.yaml": slow });
  try {
    const first = p.spawn(["run", CONFIG]);
    await waitForHalfWrite(p);
    const second = p.spawn(["run", CONFIG]);
    const [r1, r2] = (await Promise.all([first.output(), second.output()])).map(collect);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    // the runs split the stages between them (per-key locks): nothing is computed twice
    assert.equal(r1.summary!.ran + r2.summary!.ran, 6, `${r1.stderr}\n${r2.stderr}`);
    assert.equal(r1.summary!.cached + r2.summary!.cached, 6);
    assert.equal((await filesUnder(p.path("artifacts/runs"))).length, 6, "6 stage runs in all");
    assert.match(r2.stderr, /a: reusing key [0-9a-f]{12}, computed meanwhile by another run/);
    assert.match(
      r2.stderr,
      /waiting for .*lock, held by pid \d+ on .* \(pipeline .*run configs\/six\.yaml\)/,
    );
    await assertStoreConsistent(p);
  } finally {
    await p.dispose();
  }
});

Deno.test("safety: a failing stage stops its dependants, unrelated stages finish, the run fails naming it", async () => {
  const failing = SIX_STAGES
    .replace("with: { value: 1 }", "with: { value: 1, sleep_ms: 1000 }")
    .replace("with: { value: 10 }", "with: { value: 10, fail: true }");
  const p = await TestProject.create({ "six.yaml": failing });
  try {
    const r = await p.cli("run", CONFIG);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /failed: b: .*eng_source b was asked to fail/);
    assert.match(r.stderr, /not run because an upstream stage failed: mb, j, final/);
    assert.deepEqual(ranStages(r), ["a", "ma"]);
    assert.deepEqual(r.summary, { ran: 2, cached: 0, failed: 1 });
    await assert.rejects(Deno.stat(p.path("configs/six.lock.json")), Deno.errors.NotFound);
    const manifests = await filesUnder(p.path("artifacts/runs"));
    const failed = manifests.find((f) => f.endsWith("_six_b.json"))!;
    assert.equal(JSON.parse(await Deno.readTextFile(failed)).status, "failed");
  } finally {
    await p.dispose();
  }
});

Deno.test("safety: a corrupted or missing cache object is detected, warned about and recomputed", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const lock = JSON.parse(await p.read("configs/six.lock.json"));
    const digest: string = lock.stages.a.outputs["data.txt"];
    const object = p.path(`artifacts/objects/${digest.slice(0, 2)}/${digest}`);
    await Deno.chmod(object, 0o644);
    await Deno.writeTextFile(object, "1\n2\n4\n");
    const corrupt = await p.cli("run", CONFIG);
    assert.equal(corrupt.code, 0, corrupt.stderr);
    assert.match(
      corrupt.stderr,
      /warning: a: cached output data\.txt \(object [0-9a-f]{12}\) is corrupt; recomputing/,
    );
    assert.deepEqual(ranStages(corrupt), ["a"]);
    assert.equal(await sha256File(object), digest);

    await Deno.remove(object);
    const missing = await p.cli("run", CONFIG);
    assert.match(missing.stderr, /a: cached output data\.txt .* is missing; recomputing/);
    assert.deepEqual(ranStages(missing), ["a"]);
    await assertStoreConsistent(p);
  } finally {
    await p.dispose();
  }
});
