import assert from "node:assert/strict";
import { ranStages, SIX_STAGES, TestProject, TIMED_STAGES } from "./fixtures/engine/project.ts";
import { sha256File } from "../common/sha256.ts";

const CONFIG = "configs/six.yaml";

Deno.test("cache: a second run of an unchanged config runs nothing and publishes the outputs", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const first = await p.cli("run", CONFIG);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.summary, { ran: 6, cached: 0, failed: 0 });
    assert.match(first.stderr, /j \| provenance: config=configs\/six\.yaml stages=a,b,j,ma,mb\n/);
    const second = await p.cli("run", CONFIG);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.summary, { ran: 0, cached: 6, failed: 0 });
    assert.match(second.stdout.trimEnd().split("\n").pop()!, /^stages: 0 ran, 6 cached, 0 failed$/);
    // a = 1,2,3 ×2; b = 10,20,30 ×3; final = join of both.
    assert.equal(await p.read("artifacts/out/six/final/data.txt"), "2\n4\n6\n30\n60\n90\n");
    const lock = JSON.parse(await p.read("configs/six.lock.json"));
    assert.deepEqual(Object.keys(lock.stages).sort(), ["a", "b", "final", "j", "ma", "mb"]);
    assert.deepEqual(lock.stages.final.metrics, { sum: 192, count: 6 });
  } finally {
    await p.dispose();
  }
});

Deno.test("cache: --set on one stage reruns exactly that stage and its dependants", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const r = await p.cli("run", CONFIG, "--set", "stages.mb.with.scale=4");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ranStages(r), ["final", "j", "mb"]);
    assert.deepEqual(r.summary, { ran: 3, cached: 3, failed: 0 });
    assert.equal(await p.read("artifacts/out/six/mb/data.txt"), "40\n80\n120\n");
  } finally {
    await p.dispose();
  }
});

Deno.test("cache: editing a module reruns the stages importing it; an unrelated module reruns nothing", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    await p.append("stages/eng_lib/unused.ts", "// an edit no stage imports\n");
    const unrelated = await p.cli("run", CONFIG);
    assert.deepEqual(unrelated.summary, { ran: 0, cached: 6, failed: 0 });
    // numbers.ts is imported by eng_map (ma, mb, final) and eng_join (j), not by eng_source.
    await p.append(
      "stages/eng_lib/numbers.ts",
      "// an edit to a module the maps and join import\n",
    );
    const edited = await p.cli("run", CONFIG);
    assert.equal(edited.code, 0, edited.stderr);
    assert.deepEqual(ranStages(edited), ["final", "j", "ma", "mb"]);
  } finally {
    await p.dispose();
  }
});

Deno.test("cache: early cutoff — a rerun stage with byte-identical outputs does not rerun its dependants", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    // used.ts is imported by eng_source only; a comment changes its code digest, not its output.
    await p.append("stages/eng_lib/used.ts", "// comment only\n");
    const r = await p.cli("run", CONFIG);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ranStages(r), ["a", "b"]);
    assert.deepEqual(r.summary, { ran: 2, cached: 4, failed: 0 });
  } finally {
    await p.dispose();
  }
});

Deno.test("cache: --force STAGE reruns that stage only; --force reruns all", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const one = await p.cli("run", CONFIG, "--force", "ma");
    assert.deepEqual(ranStages(one), ["ma"]);
    const all = await p.cli("run", CONFIG, "--force");
    assert.deepEqual(all.summary, { ran: 6, cached: 0, failed: 0 });
    const typo = await p.cli("run", "--force", CONFIG);
    assert.equal(typo.code, 2);
    assert.match(
      typo.stderr,
      /--force takes a stage name, not configs\/six\.yaml; to force every stage write `run CONFIG --force`/,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("cache: a volatile output that changes on every run does not rerun dependants when the rest is byte-identical", async () => {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  try {
    assert.equal((await p.cli("run", "configs/timed.yaml")).code, 0);
    const before = JSON.parse(await p.read("configs/timed.lock.json")).stages.t.outputs;
    const r = await p.cli("run", "configs/timed.yaml", "--force", "t");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ranStages(r), ["t"]);
    assert.deepEqual(r.summary, { ran: 1, cached: 1, failed: 0 });
    // The timing really changed, and the new one is recorded and published like any output.
    const after = JSON.parse(await p.read("configs/timed.lock.json")).stages.t.outputs;
    assert.equal(after["data.txt"], before["data.txt"]);
    assert.notEqual(after["timing.json"], before["timing.json"]);
    assert.equal(
      await sha256File(p.path("artifacts/out/timed/t/timing.json")),
      after["timing.json"],
    );
    assert.equal(await p.read("artifacts/out/timed/m/data.txt"), "6\n");
  } finally {
    await p.dispose();
  }
});
