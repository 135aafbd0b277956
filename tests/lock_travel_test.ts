/**
 * Lock files that travel, on a fixture project in its own git repository: a run on a machine
 * whose runtime differs keeps the committed lock (the clone stays clean) and records its own
 * in `artifacts/locks/`; `status` names the runtime setting that changed; `check` compares
 * with git's committed version even when the working copy was rewritten, and names the
 * machine and runtime of both sides.
 */
import assert from "node:assert/strict";
import { onlyMachineDiffers } from "../pipeline/cli/lock_travel.ts";
import { writeLock } from "../pipeline/store/lockfile.ts";
import { TestProject, TIMED_STAGES } from "./fixtures/engine/project.ts";

const CONFIG = "configs/timed.yaml";
const LOCK = "configs/timed.lock.json";

async function git(p: TestProject, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args],
    cwd: p.root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** A project whose lock was written and committed on the "haswell" machine. */
async function committedOnHaswell(): Promise<TestProject> {
  const p = await TestProject.create({ "timed.yaml": TIMED_STAGES });
  await p.write(".gitignore", "artifacts/\n");
  const first = await p.cliWithEnv({ ENG_MACHINE: "haswell" }, "run", CONFIG);
  assert.equal(first.code, 0, first.stderr);
  await git(p, "init", "-q");
  await git(p, "add", ".");
  await git(p, "commit", "-qm", "lock from haswell");
  return p;
}

Deno.test("lock travel: a run where only the machine differs keeps the committed lock and records its own", async () => {
  const p = await committedOnHaswell();
  try {
    const committed = await p.read(LOCK);
    const lock = JSON.parse(committed);
    assert.equal(lock.stages.t.runtime.machine, "haswell");
    assert.equal(typeof lock.machine.host, "string");
    assert.equal(typeof lock.machine.cpu, "string");

    const status = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "status", CONFIG);
    assert.match(status.stdout, /runtime machine: haswell → cooperlake/);

    const run = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "run", CONFIG);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /lock: kept configs\/timed\.lock\.json: only the machine differs \(runtime machine: haswell → cooperlake\); this machine's run is recorded in artifacts\/locks\/timed\.lock\.json/,
    );
    assert.equal(await p.read(LOCK), committed, "the committed lock is untouched");
    assert.equal((await git(p, "status", "--porcelain")).trim(), "", "the clone stays clean");
    const local = JSON.parse(await p.read("artifacts/locks/timed.lock.json"));
    assert.equal(local.stages.t.runtime.machine, "cooperlake");

    // This machine's lock is what status compares with now: all up to date, no notes.
    const after = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "status", CONFIG);
    assert.match(after.stdout, /2 up to date, 0 stale/);
    assert.doesNotMatch(after.stdout, /lock file not yet updated/);

    // A real change (a param) rewrites the committed lock and drops the local one.
    await p.write(CONFIG, TIMED_STAGES.replace("scale: 3", "scale: 4"));
    const changed = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "run", CONFIG);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(JSON.parse(await p.read(LOCK)).stages.m.params.scale, 4);
    await assert.rejects(
      Deno.stat(p.path("artifacts/locks/timed.lock.json")),
      Deno.errors.NotFound,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("lock travel: check compares with git's committed lock when the working copy was rewritten, naming both sides' machine and runtime", async () => {
  const p = await committedOnHaswell();
  try {
    // Rewrite the working copy's metrics as if a run had overwritten the lock.
    const lock = JSON.parse(await p.read(LOCK));
    const locked = structuredClone(lock.stages.m.metrics);
    lock.stages.m.metrics.sum = 999;
    await p.write(LOCK, JSON.stringify(lock, null, 2) + "\n");

    const check = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "check", CONFIG);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(
      check.stdout,
      /check: comparing with configs\/timed\.lock\.json as committed in HEAD \(the working copy differs\)/,
    );
    assert.match(
      check.stdout,
      /^ {2}locked: .+ \(.+, \d+ cores, \w+-\w+\), deno [\d.]+; runtime machine=haswell$/m,
    );
    assert.match(check.stdout, /^ {2}now {3}: .+; runtime machine=cooperlake$/m);
    assert.match(check.stdout, /runtime differs: runtime machine: haswell → cooperlake/);
    assert.match(
      check.stdout,
      /check: metrics match configs\/timed\.lock\.json as committed in HEAD/,
    );
    assert.equal(JSON.parse(await p.read(LOCK)).stages.m.metrics.sum, 999, "check writes no lock");
    assert.notEqual(locked.sum, 999);

    // Against the rewritten file it would have failed: the committed version is what counts.
    await git(p, "commit", "-qam", "commit the bad lock");
    const bad = await p.cliWithEnv({ ENG_MACHINE: "cooperlake" }, "check", CONFIG);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /m\.sum/);
  } finally {
    await p.dispose();
  }
});

Deno.test("lock travel: the same run written on another host leaves the lock file as it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock_travel_" });
  try {
    const path = `${dir}/x.lock.json`;
    const machine = { host: "a", cpu: "Xeon", cores: 2, platform: "linux-x86_64", deno: "2.9.6" };
    const lock = {
      machine,
      config: "configs/x.yaml",
      digest: "d",
      versions: { deno: "2.9.6" },
      stages: {
        s: { uses: "k", key: "k1", params: {}, codeDigest: "c", runtime: {}, outputs: { f: "1" } },
      },
    };
    assert.equal(await writeLock(path, lock), true);
    const text = await Deno.readTextFile(path);
    assert.equal(await writeLock(path, { ...lock, machine: { ...machine, host: "b" } }), false);
    assert.equal(await Deno.readTextFile(path), text);
    const other = structuredClone(lock);
    other.stages.s.outputs.f = "2";
    assert.equal(onlyMachineDiffers(lock, other), false, "same runtime, other bytes: a rerun here");
    other.stages.s.key = "k2";
    other.stages.s.runtime = { blas_library: "OpenBLAS Cooperlake" };
    assert.equal(onlyMachineDiffers(lock, other), true, "same recipe, other runtime: the machine");
    other.stages.s.codeDigest = "c2";
    assert.equal(onlyMachineDiffers(lock, other), false, "other code: a real change");
    assert.equal(await writeLock(path, other), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
