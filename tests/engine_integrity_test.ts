import assert from "node:assert/strict";
import { join } from "node:path";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";

/** The stored object of `stage`'s `file`, from the lock file. */
async function objectOf(p: TestProject, stage: string, file: string): Promise<string> {
  const lock = JSON.parse(await p.read("configs/six.lock.json"));
  const d = lock.stages[stage].outputs[file];
  return p.path(join("artifacts/objects", d.slice(0, 2), d));
}

/** Flips one bit in the middle of `path` and puts its mtime back (bit rot a stat misses). */
async function flipBitKeepMtime(path: string): Promise<void> {
  const { mtime, atime } = await Deno.stat(path);
  const bytes = await Deno.readFile(path);
  bytes[bytes.length >> 1] ^= 0x01;
  await Deno.chmod(path, 0o644);
  await Deno.writeFile(path, bytes);
  await Deno.chmod(path, 0o444);
  await Deno.utime(path, atime!, mtime!);
}

Deno.test("integrity: an mtime-preserving bit flip in a cached object is found by status, run and verify", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    await flipBitKeepMtime(await objectOf(p, "j", "data.txt"));
    const status = await p.cli("status", CONFIG);
    assert.match(status.stdout, /j\b.*stale/);
    assert.match(status.stdout, /data\.txt.*corrupt/);
    const verify = await p.cli("verify");
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /^corrupt: artifacts\/objects\/\w\w\/\w{64}$/m);
    assert.match(verify.stdout, /^ {2}j\/data\.txt in configs\/six\.lock\.json$/m);
    assert.match(verify.stdout, /1 corrupt, 0 missing/);
    assert.match(verify.stdout, /repair: `pipeline verify --repair`/);
    const run = await p.cli("run", CONFIG);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /cached output data\.txt .* is corrupt; recomputing/);
    assert.deepEqual(run.summary, { ran: 1, cached: 5, failed: 0 });
    assert.equal((await p.cli("verify")).code, 0);
  } finally {
    await p.dispose();
  }
});

Deno.test("integrity: a forced rerun replaces a corrupt object instead of keeping it", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const object = await objectOf(p, "ma", "data.txt");
    const good = await Deno.readFile(object);
    await flipBitKeepMtime(object);
    // A memo written before the flip with the object's then-current stamp would be stale by
    // ctime; the forced rerun must not trust it either way.
    const forced = await p.cli("run", CONFIG, "--force", "ma");
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await Deno.readFile(object), good);
    assert.deepEqual(await Deno.readFile(p.path("artifacts/out/six/ma/data.txt")), good);
    assert.equal((await p.cli("verify", CONFIG)).code, 0);
  } finally {
    await p.dispose();
  }
});

Deno.test("integrity: verify --repair removes corrupt objects and the next run recomputes them; check re-hashes", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const object = await objectOf(p, "mb", "data.txt");
    await flipBitKeepMtime(object);
    // check must not compare against a corrupt cached result.
    const check = await p.cli("check", CONFIG);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /mb: cached output data\.txt .* is corrupt; recomputing/);
    await flipBitKeepMtime(object);
    const repair = await p.cli("verify", "--repair");
    assert.equal(repair.code, 1);
    assert.match(repair.stdout, /^corrupt: .* \(removed\)$/m);
    await assert.rejects(Deno.stat(object), Deno.errors.NotFound);
    const run = await p.cli("run", CONFIG);
    assert.deepEqual(run.summary, { ran: 1, cached: 5, failed: 0 });
    assert.equal((await p.cli("verify")).code, 0);
  } finally {
    await p.dispose();
  }
});

/** Malformed contents a state file can have. */
const BAD_JSON = ["{}", '{"key": 5, "outputs": "x"}', '{"key": "ab', "", "[1,2]", "null"];

Deno.test("state files: malformed traces are reported once with their path and rerun, never a crash", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const key = JSON.parse(await p.read("configs/six.lock.json")).stages.j.key;
    let survived = 0;
    for (const bad of BAD_JSON) {
      await p.write(`artifacts/cache/${key}.json`, bad);
      const status = await p.cli("status", CONFIG);
      assert.equal(status.code, 0, status.stderr);
      const warnings = status.stderr.match(new RegExp(`warning: .*cache/${key}\\.json: `, "g"));
      assert.equal(warnings?.length, 1, status.stderr);
      const run = await p.cli("run", CONFIG);
      assert.equal(run.code, 0, `${bad}: ${run.stderr}`);
      assert.deepEqual(run.summary, { ran: 1, cached: 5, failed: 0 }, bad);
      survived++;
    }
    assert.equal(survived, BAD_JSON.length);
  } finally {
    await p.dispose();
  }
});

Deno.test("state files: a malformed lock file, verify memo or module-graph cache is ignored with a warning", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    for (
      const [file, bad] of [
        ["configs/six.lock.json", '{"stages": 5}'],
        ["artifacts/objects/verified.json", '{"x": 1}'],
        ["artifacts/graphs.json", '{"k": {"stats": 1}}'],
      ]
    ) {
      await p.write(file, bad);
      const run = await p.cli("run", CONFIG);
      assert.equal(run.code, 0, `${file}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(`warning: .*${file.replace(".", "\\.")}: unexpected shape`),
      );
      assert.deepEqual(run.summary, { ran: 0, cached: 6, failed: 0 }, file);
    }
    // The run rewrote the lock file.
    assert.equal(typeof JSON.parse(await p.read("configs/six.lock.json")).stages.j.key, "string");
  } finally {
    await p.dispose();
  }
});

Deno.test("gc refuses to run when a lock file or experiment record is malformed, naming it", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const objects = () => [...Deno.readDirSync(p.path("artifacts/objects"))].length;
    const before = objects();
    const lock = await p.read("configs/six.lock.json");
    await p.write("configs/six.lock.json", '{"stages": 5}');
    const gc = await p.cli("gc", "-f");
    assert.equal(gc.code, 2);
    assert.match(gc.stderr, /gc: refusing to run: .*configs\/six\.lock\.json is malformed/);
    assert.equal(objects(), before);
    await p.write("configs/six.lock.json", lock);
    await p.write("artifacts/experiments/e1.json", "{");
    const gc2 = await p.cli("gc", "-f");
    assert.equal(gc2.code, 2);
    assert.match(gc2.stderr, /refusing to run: .*artifacts\/experiments\/e1\.json is malformed/);
  } finally {
    await p.dispose();
  }
});

Deno.test("exp: a corrupt experiment record is named, not 'no experiments' or a TypeError", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    for (const bad of ["{", '{"name": "e1", "sets": 3}']) {
      await p.write("artifacts/experiments/e1.json", bad);
      const list = await p.cli("exp", "list");
      assert.equal(list.code, 1);
      assert.match(list.stderr, /experiment record artifacts\/experiments\/e1\.json is malformed/);
      assert.doesNotMatch(list.stdout + list.stderr, /no experiments|TypeError/);
      const diff = await p.cli("params", "diff", CONFIG, "e1");
      assert.equal(diff.code, 2);
      assert.match(diff.stderr, /experiments\/e1\.json is malformed/);
    }
  } finally {
    await p.dispose();
  }
});
