/**
 * The end of a run on a fixture project: headline numbers, the headline file's path and the
 * wall time above the summary line (which stays last), logs named by config and stage with
 * the key inside, and after an interruption a last line saying that rerunning resumes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withoutForce } from "../pipeline/cli/run_config.ts";
import { collect, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";

Deno.test("run end: headline metrics, the file to open and the wall time come right above the summary line", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    for (const expected of [{ ran: 6, cached: 0 }, { ran: 0, cached: 6 }]) {
      const r = await p.cli("run", CONFIG);
      assert.equal(r.code, 0, r.stderr);
      const tail = r.stdout.trimEnd().split("\n").slice(-4);
      assert.deepEqual(tail.slice(0, 2), [
        "results: j sum 192",
        "open: artifacts/out/six/j/data.txt",
      ]);
      assert.match(tail[2], /^wall time \d+\.\ds$/);
      assert.equal(tail[3], `stages: ${expected.ran} ran, ${expected.cached} cached, 0 failed`);
    }
  } finally {
    await p.dispose();
  }
});

Deno.test("run end: each stage logs to artifacts/logs/<config>/<stage>.log with its key in the header", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const r = await p.cli("run", CONFIG, "--json");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const names = [...Deno.readDirSync(p.path("artifacts/logs/six"))].map((e) => e.name).sort();
    assert.deepEqual(names, ["a.log", "b.log", "final.log", "j.log", "ma.log", "mb.log"]);
    const j = report.stages.find((s: { stage: string }) => s.stage === "j");
    const log = await p.read("artifacts/logs/six/j.log");
    assert.match(log, new RegExp(`^--- j \\(eng_join\\) key ${j.key} \\d{4}-`));
    assert.match(log, /provenance: config=configs\/six\.yaml/);
  } finally {
    await p.dispose();
  }
});

Deno.test("run end: after an interruption the last line says that rerunning resumes", async () => {
  const slow = SIX_STAGES.replace("with: { value: 1 }", "with: { value: 1, sleep_ms: 4000 }");
  const p = await TestProject.create({ "six.yaml": slow });
  try {
    const engine = p.spawn(["run", CONFIG]);
    const state = p.path("artifacts/state");
    for (let i = 0; i < 300; i++) {
      const keys = await Array.fromAsync(Deno.readDir(state)).catch(() => []);
      const started = await Promise.all(
        keys.map((k) => Deno.stat(join(state, k.name, "checkpoint")).then(() => true, () => false)),
      );
      if (started.includes(true)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    engine.kill("SIGINT");
    const r = collect(await engine.output());
    assert.equal(r.code, 130, r.stderr);
    const last = r.stdout.trimEnd().split("\n").at(-1)!;
    assert.match(last, /^interrupted: rerun `bin\/pipeline .*run configs\/six\.yaml` to resume/);
    const again = await p.cli("run", CONFIG);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /a \| resuming from checkpoint/);
  } finally {
    await p.dispose();
  }
});

Deno.test("run end: the resume hint drops --force, which would redo the stages a forced run finished", () => {
  assert.deepEqual(withoutForce(["run", "c.yaml", "--force", "train", "-j", "2"], "train"), [
    "run",
    "c.yaml",
    "-j",
    "2",
  ]);
  assert.deepEqual(withoutForce(["run", "--force", "c.yaml"], true), ["run", "c.yaml"]);
  assert.deepEqual(withoutForce(["run", "--force=train"], "train"), ["run"]);
});
