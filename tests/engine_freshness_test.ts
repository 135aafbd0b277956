import assert from "node:assert/strict";
import { SIX_STAGES, TestProject, TIMED_STAGES } from "./fixtures/engine/project.ts";

const SIX = "configs/six.yaml";
const TIMED = "configs/timed.yaml";

/** The typed reasons of one stage in `status --json`. */
async function jsonReasons(
  p: TestProject,
  stage: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>[]> {
  const r = await p.cliWithEnv(env, "status", ...args, "--json");
  assert.equal(r.code, 0, r.stderr);
  const entry = JSON.parse(r.stdout).stages.find((s: { stage: string }) => s.stage === stage);
  assert.ok(entry, `no ${stage} in ${r.stdout}`);
  return entry.reasons;
}

/** The `    - reason` lines under every verdict line, without the verdict words. */
function reasonBlocks(stdout: string): string[] {
  return stdout.split("\n").filter((l) => l.startsWith("    - "));
}

Deno.test("freshness: never run, a changed param, an edited module and a stale upstream are typed reasons", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.deepEqual(await jsonReasons(p, "a", [SIX]), [
      { kind: "never-run", text: "never run for this config (no entry in its lock file)" },
    ]);
    assert.equal((await p.cli("run", SIX)).code, 0);
    await p.write(
      "configs/six.yaml",
      SIX_STAGES.replace("with: { scale: 2 }", "with: { scale: 5 }"),
    );
    await p.append("stages/eng_join/run.ts", "// edited\n");
    assert.deepEqual(await jsonReasons(p, "ma", [SIX]), [
      { kind: "param-changed", key: "scale", old: 2, new: 5, text: "param scale: 2 → 5" },
    ]);
    assert.deepEqual(await jsonReasons(p, "j", [SIX]), [
      { kind: "upstream-stale", stage: "ma", text: "upstream ma is stale" },
      {
        kind: "module-changed",
        path: "stages/eng_join/run.ts",
        change: "edited",
        text: "module stages/eng_join/run.ts changed",
      },
    ]);
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: a changed upstream output names the input, the stage and the files", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", SIX)).code, 0);
    const exp = await p.cli("exp", "run", "b5", SIX, "--set", "stages.b.with.value=5");
    assert.equal(exp.code, 0, exp.stderr);
    // The experiment cached mb for b=5 with scale 3; ask for scale 4 so mb has no result.
    const sets = ["--set", "stages.b.with.value=5", "--set", "stages.mb.with.scale=4"];
    const reasons = await jsonReasons(p, "mb", [SIX, ...sets]);
    assert.deepEqual(reasons, [
      { kind: "param-changed", key: "scale", old: 3, new: 4, text: "param scale: 3 → 4" },
      {
        kind: "input-changed",
        input: "data",
        stage: "b",
        files: ["data.txt"],
        text: "input data: b outputs changed (data.txt)",
      },
    ]);
    const b = await jsonReasons(p, "b", [SIX, ...sets]);
    assert.equal(b[0].kind, "lock-outdated");
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: --force and a missing or corrupt cached object are reasons of their own", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", SIX)).code, 0);
    const forced = await p.cli("run", SIX, "--dry-run", "--force", "mb");
    assert.match(forced.stdout, /^would run mb\n {4}- forced \(--force\)$/m);

    const lock = JSON.parse(await p.read("configs/six.lock.json"));
    const digest: string = lock.stages.a.outputs["data.txt"];
    const object = p.path(`artifacts/objects/${digest.slice(0, 2)}/${digest}`);
    await Deno.chmod(object, 0o644);
    await Deno.writeTextFile(object, "999\n");
    assert.deepEqual(await jsonReasons(p, "a", [SIX]), [
      {
        kind: "output-bad",
        file: "data.txt",
        digest,
        state: "corrupt",
        text: "cached output data.txt is corrupt",
      },
    ]);
    await Deno.remove(object);
    const missing = await jsonReasons(p, "a", [SIX]);
    assert.equal(missing[0].state, "missing");
    assert.equal(missing[0].text, "cached output data.txt is missing");
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: a runtime setting that changed is named, from the trace and from a lock written on another machine", async () => {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  try {
    const run = await p.cliWithEnv({ ENG_MACHINE: "haswell" }, "run", TIMED);
    assert.equal(run.code, 0, run.stderr);
    const expected = {
      kind: "runtime-changed",
      setting: "machine",
      old: "haswell",
      new: "cooperlake",
      text: "runtime machine: haswell → cooperlake",
    };
    const env = { ENG_MACHINE: "cooperlake" };
    assert.deepEqual(await jsonReasons(p, "t", [TIMED], env), [expected]);

    // A fresh clone elsewhere: only the committed lock file, no artifacts.
    await Deno.remove(p.path("artifacts"), { recursive: true });
    assert.deepEqual(await jsonReasons(p, "t", [TIMED], env), [expected]);
    // Same machine, nothing differs from the lock: then it is just not in this cache.
    const same = await jsonReasons(p, "t", [TIMED], { ENG_MACHINE: "haswell" });
    assert.equal(same[0].kind, "locked-run-not-cached");
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: against a lock from another machine, edited code and other npm versions are named", async () => {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  try {
    assert.equal((await p.cli("run", TIMED)).code, 0);
    const lockPath = "configs/timed.lock.json";
    const lock = JSON.parse(await p.read(lockPath));
    assert.ok(lock.versions.zod, "the fixture kinds load zod");
    lock.versions.zod = "3.0.0";
    await p.write(lockPath, JSON.stringify(lock));
    await Deno.remove(p.path("artifacts"), { recursive: true });
    await p.append("stages/eng_timed/run.ts", "// edited\n");
    const reasons = await jsonReasons(p, "t", [TIMED]);
    assert.deepEqual(reasons.map((r) => r.kind), ["code-changed", "npm-changed"]);
    assert.equal(reasons[1].text, `npm zod: 3.0.0 → ${reasons[1].new}`);
    assert.equal(reasons[0].old, lock.stages.t.codeDigest);
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: a lock listing several versions of a package (stages resolve it differently) names no npm change for the stage using one of them", async () => {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  try {
    assert.equal((await p.cli("run", TIMED)).code, 0);
    const lockPath = "configs/timed.lock.json";
    const lock = JSON.parse(await p.read(lockPath));
    const zod = lock.versions.zod;
    assert.ok(zod, "the fixture kinds load zod");
    // As the lock of a config whose other stages resolve another zod records it.
    lock.versions.zod = ["0.0.1", zod].sort().join(",");
    await p.write(lockPath, JSON.stringify(lock));
    await Deno.remove(p.path("artifacts"), { recursive: true });
    const reasons = await jsonReasons(p, "t", [TIMED]);
    assert.deepEqual(reasons.map((r) => r.kind), ["locked-run-not-cached"]);
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: status and run --dry-run give every stage the same reasons in the same words", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", SIX)).code, 0);
    await p.append("stages/eng_join/run.ts", "// edited\n");
    const sets = ["--set", "stages.ma.with.scale=7"];
    const status = await p.cli("status", SIX, ...sets);
    const dry = await p.cli("run", SIX, "--dry-run", ...sets);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(dry.code, 0, dry.stderr);
    const reasons = reasonBlocks(status.stdout);
    assert.deepEqual(reasons, [
      "    - param scale: 2 → 7",
      "    - upstream ma is stale",
      "    - module stages/eng_join/run.ts changed",
      "    - upstream j is stale",
    ]);
    assert.deepEqual(reasonBlocks(dry.stdout), reasons);
  } finally {
    await p.dispose();
  }
});

Deno.test("freshness: status --json lists every stage with its state, key and described reasons", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", SIX)).code, 0);
    const r = await p.cli("status", SIX, "--set", "stages.mb.with.scale=4", "--json");
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.config, "configs/six.yaml");
    assert.equal(json.upToDate, 3);
    assert.equal(json.stale, 3);
    assert.deepEqual(
      json.stages.map((s: { stage: string; state: string }) => [s.stage, s.state]),
      [["a", "fresh"], ["b", "fresh"], ["ma", "fresh"], ["mb", "stale"], ["j", "stale"], [
        "final",
        "stale",
      ]],
    );
    for (const s of json.stages) {
      assert.deepEqual(
        Object.keys(s).sort(),
        s.key
          ? ["key", "mayCutOff", "reasons", "stage", "state", "uses"]
          : ["mayCutOff", "reasons", "stage", "state", "uses"],
      );
      if (s.state === "fresh") assert.match(s.key, /^[0-9a-f]{64}$/);
      for (const reason of s.reasons) assert.equal(typeof reason.text, "string");
    }
    assert.equal(json.stages[3].key.length, 64, "mb's upstream is fresh, so its key is known");
    assert.equal(json.stages[4].key, undefined, "j's upstream mb is stale");
  } finally {
    await p.dispose();
  }
});
