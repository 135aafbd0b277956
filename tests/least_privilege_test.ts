import assert from "node:assert/strict";
import { join } from "node:path";
import { TestProject } from "./fixtures/engine/project.ts";
import { policyViolations, type StageAllow } from "../pipeline/permissions/policy.ts";
import type { StagePermissions } from "../pipeline/stage_kind.ts";

/** A source stage, and the hostile probe reading it. */
function probeConfig(o: { reads: string[]; writes: string[]; port: number }): string {
  return `
stages:
  a:
    uses: eng_source
    with: { value: 1 }
  probe:
    uses: probe
    needs: { data: a }
    with:
      forbidden_reads: ${JSON.stringify(o.reads)}
      forbidden_writes: ${JSON.stringify(o.writes)}
      port: ${o.port}
`;
}

Deno.test("least privilege: a hostile stage is denied every escape it tries and still reads its input and writes its dirs", async () => {
  const p = await TestProject.create({});
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const outside = await Deno.makeTempDir({ prefix: "probe_outside_" });
  try {
    // What must stay private: another config's outputs, the repository's config.
    await p.write("artifacts/out/other/a/data.txt", "another config's result");
    await p.write(".git/config", "[remote] url = secret");
    const config = probeConfig({
      reads: ["/etc/passwd", p.path("artifacts/out/other/a/data.txt"), p.path(".git/config")],
      writes: [p.path("pwned.txt"), join(outside, "pwned.txt"), p.path("artifacts/out/other/x")],
      port: (listener.addr as Deno.NetAddr).port,
    });
    await p.write("configs/probe.yaml", config);
    const r = await p.cliWithEnv({ PROBE_SECRET: "s3cret-value" }, "run", "configs/probe.yaml");
    assert.equal(r.code, 0, r.stderr);
    const { attempts, legit } = JSON.parse(
      await Deno.readTextFile(p.path("artifacts/out/probe/probe/attempts.json")),
    );
    const tried = Object.keys(attempts);
    // 3 reads, 3 writes, the secret, the whole environment, connect, spawn, dlopen, hostname.
    assert.equal(tried.length, 12, JSON.stringify(attempts));
    for (const [action, outcome] of Object.entries(attempts)) {
      assert.equal(outcome, "denied", `${action}: ${outcome}`);
    }
    assert.equal(accepted.length, 0, "nothing connected to the listener");
    await assert.rejects(Deno.stat(p.path("pwned.txt")));
    await assert.rejects(Deno.stat(join(outside, "pwned.txt")));
    assert.deepEqual(legit, { input_bytes: "1\n2\n3\n".length, state: "written", tmp: "written" });
  } finally {
    listener.close();
    await accepting.catch(() => {});
    accepted.forEach((c) => c.close());
    await Deno.remove(outside, { recursive: true });
    await p.dispose();
  }
});

for (
  const [ask, key] of [["read-root", "allow.read"], ["net", "allow.net"]] as const
) {
  Deno.test(`least privilege: a kind asking for ${ask} without opt-in is refused naming the stage and ${key}; the opt-in lets it load`, async () => {
    const p = await TestProject.create({});
    try {
      const base = probeConfig({ reads: [], writes: [], port: 0 }) + `      ask: ${ask}\n`;
      await p.write("configs/greedy.yaml", base);
      const r = await p.cli("run", "configs/greedy.yaml", "--dry-run");
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /greedy\.yaml:\d+: stages\.probe: stage "probe" asks for .* beyond the engine's policy/,
      );
      assert.match(r.stderr, new RegExp(`opt in with ${key.replace(".", "\\.")} on the stage`));
      const allow = ask === "net" ? "{net: true}" : '{read: ["/"]}';
      await p.write("configs/greedy.yaml", base + `    allow: ${allow}\n`);
      const ok = await p.cli("run", "configs/greedy.yaml", "--dry-run");
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await p.dispose();
    }
  });
}

Deno.test("least privilege: allow: {env: [NAME]} passes that one variable of the engine's environment, and no other", async () => {
  const p = await TestProject.create({});
  try {
    const config = probeConfig({ reads: [], writes: [], port: 0 }) +
      "    allow: {env: [PROBE_SECRET]}\n";
    await p.write("configs/opted.yaml", config);
    const r = await p.cliWithEnv(
      { PROBE_SECRET: "s3cret-value", OTHER_SECRET: "x" },
      "run",
      "configs/opted.yaml",
    );
    assert.equal(r.code, 0, r.stderr);
    const { attempts } = JSON.parse(
      await Deno.readTextFile(p.path("artifacts/out/opted/probe/attempts.json")),
    );
    assert.equal(attempts["env PROBE_SECRET"], 'allowed: "s3cret-value"');
    assert.equal(attempts["env (whole)"], "denied");
  } finally {
    await p.dispose();
  }
});

Deno.test("least privilege: a malformed allow: is a config error naming the key", async () => {
  const p = await TestProject.create({});
  try {
    const config = probeConfig({ reads: [], writes: [], port: 0 }) +
      "    allow: {read: relative}\n";
    await p.write("configs/bad.yaml", config);
    const r = await p.cli("run", "configs/bad.yaml", "--dry-run");
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /stages\.probe\.allow\.read: found "relative"; expected a list of absolute paths/,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("least privilege policy: BLAS libraries, host lists and project or dataset paths pass; other libraries, unscoped net/ffi and outside paths need allow:", () => {
  const root = "/work/project";
  const keys = (declared: StagePermissions, allow?: StageAllow) =>
    policyViolations(declared, { root, allow }).map((v) => v.key);
  assert.deepEqual(
    keys({
      ffi: ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"],
      net: ["github.com"],
      read: ["/work/project/data", "/usr/share/datasets/fashion-mnist"],
    }),
    [],
  );
  assert.deepEqual(keys({ ffi: ["/lib/x86_64-linux-gnu/libc.so.6"] }), ["allow.ffi"]);
  assert.deepEqual(keys({ ffi: ["libopenblas.so.0"] }), ["allow.ffi"], "a soname is not a path");
  assert.deepEqual(keys({ ffi: true, net: true, read: ["/", "/work/other"] }), [
    "allow.net",
    "allow.ffi",
    "allow.read",
    "allow.read",
  ]);
  assert.deepEqual(keys({ read: ["/work/project/../other"] }), ["allow.read"]);
  assert.deepEqual(
    keys({ ffi: ["/opt/libfoo.so"], net: true, read: ["/srv/data/x"] }, {
      ffi: ["/opt/libfoo.so"],
      net: true,
      read: ["/srv/data"],
    }),
    [],
  );
});
