/**
 * The remote cache wired into the engine, end to end: the real CLI on throw-away fixture
 * projects against Debian's nginx (WebDAV) on loopback. A "clean checkout" is the project with
 * its `artifacts/` removed (same tree, so the same cache keys; the fixture kinds import a copy
 * of `stage_kind.ts` outside the project root, which is labelled by absolute path). Skipped
 * with a notice when nginx is not installed, unless CI=true, where that is a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../common/sha256.ts";
import { HttpRemote } from "../pipeline/store/remote/http_remote.ts";
import { ranStages, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";
import { freePort, nginxGate, type NginxServer, startNginx } from "./fixtures/nginx/server.ts";

const CONFIG = "configs/six.yaml";
const gate = await nginxGate("remote_engine_test");

/** Runs `body` with nginx and a six-stage project; stops and removes both after. */
async function withRemote(body: (server: NginxServer, p: TestProject) => Promise<void>) {
  gate.require();
  const server = await startNginx();
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    await body(server, p);
  } finally {
    await p.dispose();
    await server.stop();
  }
}

/** What a fresh clone has: the configs and their lock files, no `artifacts/`. */
async function cleanCheckout(p: TestProject): Promise<void> {
  await Deno.remove(p.path("artifacts"), { recursive: true });
}

/** The published outputs of every stage of the six-stage config. */
async function published(p: TestProject): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const stage of ["a", "b", "ma", "mb", "j", "final"]) {
    out[stage] = await p.read(`artifacts/out/six/${stage}/data.txt`);
  }
  return out;
}

/** The blob digest the lock file records for `stage`'s `data.txt`. */
async function lockedDigest(p: TestProject, stage: string): Promise<string> {
  const lock = JSON.parse(await p.read("configs/six.lock.json"));
  return lock.stages[stage].outputs["data.txt"];
}

/**
 * Runs and pushes, damages the server copy of `stage`'s `data.txt`, reruns in a clean checkout:
 * only `stage` runs, the outputs are as before, and that run's push repaired the server copy.
 */
async function rerunWithDamagedBlob(
  server: NginxServer,
  p: TestProject,
  o: { stage: string; damage(path: string): Promise<void> },
) {
  assert.equal((await p.cli("run", CONFIG, "--remote", server.url)).code, 0);
  const expected = await published(p);
  const digest = await lockedDigest(p, o.stage);
  await o.damage(join(server.root, "cas", digest));
  await cleanCheckout(p);
  const r = await p.cli("run", CONFIG, "--remote", server.url);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ranStages(r), [o.stage]);
  assert.deepEqual(await published(p), expected);
  assert.equal(await sha256File(join(server.root, "cas", digest)), digest);
  return { r, digest };
}

/** Without the remote, every stage is in the local cache now. */
async function assertAllLocal(p: TestProject): Promise<void> {
  const run = await p.cli("run", CONFIG, "--no-remote");
  assert.deepEqual(run.summary, { ran: 0, cached: 6, failed: 0 }, run.stderr);
}

/** How many distinct blobs the lock file names. */
async function lockedBlobs(p: TestProject): Promise<number> {
  const lock = JSON.parse(await p.read("configs/six.lock.json"));
  const stages = Object.values(lock.stages) as { outputs: Record<string, string> }[];
  return new Set(stages.flatMap((s) => Object.values(s.outputs))).size;
}

/** Every object in the local store hashes to its name; returns how many there are. */
async function assertStoreIntact(p: TestProject): Promise<number> {
  let count = 0;
  for await (const shard of Deno.readDir(p.path("artifacts/objects"))) {
    if (!shard.isDirectory) continue;
    for await (const e of Deno.readDir(p.path(`artifacts/objects/${shard.name}`))) {
      assert.equal(await sha256File(p.path(`artifacts/objects/${shard.name}/${e.name}`)), e.name);
      count++;
    }
  }
  return count;
}

Deno.test({
  name: "remote engine: a clean checkout pulls every stage without running any, verified",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      const first = await p.cli("run", CONFIG, "--remote", server.url);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(first.summary, { ran: 6, cached: 0, failed: 0 });
      const expected = await published(p);
      await cleanCheckout(p);

      const status = await p.cli("status", CONFIG, "--remote", server.url);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^on remote +final +\(eng_map\)$/m);
      assert.match(
        status.stdout,
        /in the remote cache \(http:\/\/127\.0\.0\.1:\d+\/ac\/[0-9a-f]{64}\)/,
      );
      assert.match(
        status.stdout,
        /^6 up to date \(6 of them in the remote cache only\), 0 stale$/m,
      );

      const pulled = await p.cli("run", CONFIG, "--remote", server.url);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(
        pulled.stdout,
        /^stages: 0 ran, 0 cached, 0 failed, 6 pulled from the remote cache$/m,
      );
      assert.match(pulled.stderr, /\] final: pulled/);
      assert.doesNotMatch(pulled.stderr, /warning/);
      assert.deepEqual(await published(p), expected);
      assert.equal(await assertStoreIntact(p), await lockedBlobs(p));

      await assertAllLocal(p);
    }),
});

Deno.test({
  name:
    "remote engine: a tampered blob is rejected naming URL and digest, its stage recomputed and the server copy replaced",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      const { r, digest } = await rerunWithDamagedBlob(server, p, {
        stage: "mb",
        damage: (path) => Deno.writeTextFile(path, "30\n60\n99\n"),
      });
      assert.match(
        r.stderr,
        new RegExp(
          `warning: remote cache blob rejected: ${server.url}/cas/${digest}: the bytes hash to sha256 [0-9a-f]{64}, expected ${digest}`,
        ),
      );
      assert.match(r.stdout, /^stages: 1 ran, 0 cached, 0 failed, 5 pulled/m);
      await assertStoreIntact(p);
    }),
});

Deno.test({
  name:
    "remote engine: a record whose blob is missing on the server is a miss with a warning; the push restores the blob",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      const { r, digest } = await rerunWithDamagedBlob(server, p, {
        stage: "a",
        damage: (path) => Deno.remove(path),
      });
      assert.match(
        r.stderr,
        new RegExp(
          `treating as a miss: record ${server.url}/ac/[0-9a-f]{64} names 1 blob\\(s\\) missing on the server: ${server.url}/cas/${digest}`,
        ),
      );
    }),
});

Deno.test({
  name: "remote engine: a server that is down means a local run with one warning naming the URL",
  ignore: gate.ignore,
  fn: async () => {
    const p = await TestProject.create({ "six.yaml": SIX_STAGES });
    try {
      const url = `http://127.0.0.1:${freePort()}`;
      const r = await p.cliWithEnv({ PIPELINE_REMOTE: url }, "run", CONFIG);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.summary, { ran: 6, cached: 0, failed: 0 });
      const warnings = r.stderr.split("\n").filter((line) => line.includes("warning"));
      assert.equal(warnings.length, 1, r.stderr);
      assert.match(
        warnings[0],
        new RegExp(
          `remote cache unreachable: ${url}/ac/[0-9a-f]{64}: .*going on with the local cache only \\(remote ${url}\\)`,
        ),
      );
    } finally {
      await p.dispose();
    }
  },
});

Deno.test({
  name: "remote engine: push and pull move a config's results and say how much moved",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      assert.equal((await p.cli("run", CONFIG)).code, 0);
      const expected = await published(p);
      const blobs = await lockedBlobs(p);
      const push = await p.cli("push", CONFIG, "--remote", server.url);
      assert.equal(push.code, 0, push.stderr);
      assert.match(
        push.stdout,
        new RegExp(
          `^push: 6 stage\\(s\\) to ${server.url} \\(${blobs} blob\\(s\\), 0\\.0 MB \\(\\d+ bytes\\) ` +
            `uploaded, the rest already there\\), 0 not in the local cache$`,
          "m",
        ),
      );
      const again = await p.cli("push", CONFIG, "--remote", server.url);
      assert.match(
        again.stdout,
        /^push: 6 stage\(s\) to \S+ \(0 blob\(s\), 0\.0 MB \(0 bytes\) uploaded/m,
      );

      await cleanCheckout(p);
      const pull = await p.cli("pull", CONFIG, "--remote", server.url);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(
        pull.stdout,
        new RegExp(
          `^pull: 6 stage\\(s\\) pulled from ${server.url} \\(${blobs} blob\\(s\\), 0\\.0 MB ` +
            `\\(\\d+ bytes\\)\\), 0 already local, 0 not in the remote cache$`,
          "m",
        ),
      );
      assert.deepEqual(await published(p), expected);
      await assertAllLocal(p);
    }),
});

Deno.test({
  name:
    "remote engine: two processes pushing the same keys at once leave one consistent record per key",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      assert.equal((await p.cli("run", CONFIG)).code, 0);
      const pushes = [0, 1].map(() => p.spawn(["push", CONFIG, "--remote", server.url]).output());
      for (const out of await Promise.all(pushes)) {
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      }
      const lock = JSON.parse(await p.read("configs/six.lock.json"));
      const scratch = await Deno.makeTempDir({ prefix: "remote-engine-" });
      try {
        const remote = new HttpRemote({ url: server.url, onWarning: (m) => assert.fail(m) });
        for (const [stage, locked] of Object.entries(lock.stages) as [string, { key: string }][]) {
          const found = await remote.lookup(locked.key);
          assert.ok(found.hit, `${stage}: ${!found.hit && found.reason}`);
          assert.deepEqual(found.record.outputs, lock.stages[stage].outputs);
          for (const digest of Object.values(found.record.outputs)) {
            assert.ok(await remote.getBlob(digest, { dir: scratch })); // verified while read
          }
        }
      } finally {
        await Deno.remove(scratch, { recursive: true });
      }
    }),
});

Deno.test({
  name: "remote engine: remote: in the config is used without flags and --no-remote turns it off",
  ignore: gate.ignore,
  fn: () =>
    withRemote(async (server, p) => {
      await p.write(
        "configs/six.yaml",
        `remote: { url: ${server.url}, push: true }\n${SIX_STAGES}`,
      );
      assert.equal((await p.cli("run", CONFIG)).code, 0);
      await cleanCheckout(p);
      const off = await p.cli("run", CONFIG, "--no-remote", "--dry-run");
      assert.match(off.stdout, /^stages: 0 ran, 0 cached, 0 failed \(dry run: 6 would run\)$/m);
      const on = await p.cli("run", CONFIG, "--dry-run");
      assert.match(on.stdout, /^would pull a$/m);
      const pulled = await p.cli("run", CONFIG);
      assert.match(pulled.stdout, /^stages: 0 ran, 0 cached, 0 failed, 6 pulled/m);
    }),
});
