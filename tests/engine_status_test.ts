import assert from "node:assert/strict";
import { SIX_STAGES, TestProject, TIMED_STAGES } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";

/** `status` lines of one stage: its verdict line and its reasons. */
function stageStatus(stdout: string, stage: string): { fresh: boolean; reasons: string[] } {
  const lines = stdout.split("\n");
  const at = lines.findIndex((l) => new RegExp(`^(up to date|stale) +${stage} `).test(l));
  assert.ok(at >= 0, `no status line for ${stage} in:\n${stdout}`);
  const reasons: string[] = [];
  for (let i = at + 1; i < lines.length && lines[i].startsWith("    - "); i++) {
    reasons.push(lines[i].slice(6));
  }
  return { fresh: lines[at].startsWith("up to date"), reasons };
}

Deno.test("status: names the changed param, the edited module and the stale upstream", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const never = await p.cli("status", CONFIG);
    assert.equal(never.code, 0, never.stderr);
    assert.deepEqual(stageStatus(never.stdout, "a").reasons, [
      "never run for this config (no entry in its lock file)",
    ]);
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const clean = await p.cli("status", CONFIG);
    assert.match(clean.stdout, /6 up to date, 0 stale/);

    await p.write(
      "configs/six.yaml",
      SIX_STAGES.replace("with: { scale: 2 }", "with: { scale: 5 }"),
    );
    await p.append("stages/eng_join/run.ts", "// edited\n");
    const s = await p.cli("status", CONFIG);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(stageStatus(s.stdout, "a"), { fresh: true, reasons: [] });
    assert.deepEqual(stageStatus(s.stdout, "ma"), {
      fresh: false,
      reasons: ["param scale: 2 → 5"],
    });
    assert.deepEqual(stageStatus(s.stdout, "mb").fresh, true);
    assert.deepEqual(stageStatus(s.stdout, "j"), {
      fresh: false,
      reasons: ["upstream ma is stale", "module stages/eng_join/run.ts changed"],
    });
    assert.deepEqual(stageStatus(s.stdout, "final"), {
      fresh: false,
      reasons: ["upstream j is stale"],
    });
    assert.match(s.stdout, /3 up to date, 3 stale/);
  } finally {
    await p.dispose();
  }
});

Deno.test("status: a changed upstream output is named by input and file", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    // An experiment caches b with value 5 (and mb with another scale, so mb's key for the
    // new b output with scale 3 has no cached result).
    const exp = await p.cli(
      "exp",
      "run",
      "b5",
      CONFIG,
      "--set",
      "stages.b.with.value=5",
      "--set",
      "stages.mb.with.scale=4",
    );
    assert.equal(exp.code, 0, exp.stderr);
    assert.match((await p.cli("status", "b5")).stdout, /6 up to date, 0 stale/);
    const s = await p.cli("status", CONFIG, "--set", "stages.b.with.value=5");
    assert.deepEqual(stageStatus(s.stdout, "b"), {
      fresh: true,
      reasons: ["cached from another run; lock file not yet updated"],
    });
    assert.deepEqual(stageStatus(s.stdout, "mb"), {
      fresh: false,
      reasons: ["input data: b outputs changed (data.txt)"],
    });
    const dry = await p.cli("run", CONFIG, "--dry-run", "--set", "stages.b.with.value=5");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^cached +b$/m);
    assert.match(dry.stdout, /^would run mb$/m);
    assert.match(dry.stdout, /dry run: 3 would run/);
  } finally {
    await p.dispose();
  }
});

Deno.test("status: a key-neutral param change leaves the stage up to date and reruns nothing; a normal param change reruns it", async () => {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  const config = "configs/timed.yaml";
  try {
    assert.equal((await p.cli("run", config)).code, 0);
    const mirror = ["--set", "stages.t.with.mirror=backup"];
    const s = await p.cli("status", config, ...mirror);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(stageStatus(s.stdout, "t"), { fresh: true, reasons: [] });
    assert.match(s.stdout, /2 up to date, 0 stale/);
    const r = await p.cli("run", config, ...mirror);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.summary, { ran: 0, cached: 2, failed: 0 });
    // Left out of the key, still recorded with the run.
    const lock = JSON.parse(await p.read("configs/timed.lock.json"));
    assert.deepEqual(lock.stages.t.params, { value: 2, mirror: "backup" });

    const value = ["--set", "stages.t.with.value=5"];
    const changed = await p.cli("status", config, ...value);
    assert.deepEqual(stageStatus(changed.stdout, "t"), {
      fresh: false,
      reasons: ["param value: 2 → 5"],
    });
    const rerun = await p.cli("run", config, ...value);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(rerun.summary, { ran: 2, cached: 0, failed: 0 });
    assert.equal(await p.read("artifacts/out/timed/m/data.txt"), "15\n");
  } finally {
    await p.dispose();
  }
});
