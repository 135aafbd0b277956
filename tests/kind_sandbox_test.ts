import assert from "node:assert/strict";
import { join } from "node:path";
import { TestProject } from "./fixtures/engine/project.ts";
import { loadPipeline } from "../pipeline/config/config.ts";
import { runtimePermissions, runtimeViolations } from "../pipeline/permissions/runtime_facts.ts";
import { KindSandbox } from "../pipeline/permissions/kind_sandbox.ts";
import { moduleGraphs } from "../pipeline/rebuilder/module_graph.ts";

/** The variable of the engine's environment the hostile kind tries to read. */
const SECRET = "HOSTILE_KIND_SECRET";
/** Where its import-time code tries to write. */
const IMPORT_WRITE = "/tmp/hostile_kind_import_write.txt";

/** A config whose one stage uses the hostile kind, trying `attempt` when it is declared. */
function hostileConfig(attempt: string, path?: string): string {
  const withPath = path ? `, path: ${JSON.stringify(path)}` : "";
  return `stages:\n  h:\n    uses: hostile_kind\n    with: { attempt: ${attempt}${withPath} }\n`;
}

Deno.test("kind sandbox: a kind's import-time code is denied files, the environment, writing, the network, dlopen and spawning, while its declaration loads", async () => {
  const p = await TestProject.create({ "h.yaml": hostileConfig("nothing") });
  await Deno.remove(IMPORT_WRITE).catch(() => {});
  Deno.env.set(SECRET, "s3cret-value");
  try {
    // In this process, which has every permission: only the sandbox stands in the way.
    const pipeline = await loadPipeline(p.path("configs/h.yaml"), { stagesRoot: p.path("stages") });
    const outcomes = JSON.parse(pipeline.stages[0].kind.description);
    assert.deepEqual(Object.keys(outcomes).sort(), [
      "connect",
      "dlopen_libc",
      "read_all_env",
      "read_passwd",
      "read_secret",
      "spawn",
      "write_file",
    ]);
    for (const [action, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome, "denied", `${action}: ${outcome}`);
    }
    await assert.rejects(Deno.stat(IMPORT_WRITE));
    assert.deepEqual(pipeline.stages[0].kind.outputs(pipeline.stages[0].params), ["never.txt"]);
  } finally {
    Deno.env.delete(SECRET);
    await p.dispose();
  }
});

Deno.test("kind sandbox: a kind whose declaration reads, writes, listens, dlopens, spawns or exits fails the run with an error naming the kind and what was denied", async () => {
  const p = await TestProject.create({});
  const outside = await Deno.makeTempDir({ prefix: "hostile_kind_outside_" });
  const cases: [string, string | undefined, RegExp][] = [
    ["read", "/etc/passwd", /NotCapable: Requires read access to "\/etc\/passwd"/],
    ["read", p.path("configs/h_read.yaml"), /NotCapable: Requires read access to/],
    ["env", undefined, /NotCapable: Requires env access to "HOSTILE_KIND_SECRET"/],
    ["write", join(outside, "pwned.txt"), /NotCapable: Requires write access to/],
    ["write", p.path("pwned.txt"), /NotCapable: Requires write access to/],
    ["listen", undefined, /NotCapable: Requires net access to "127\.0\.0\.1:0"/],
    ["dlopen", undefined, /NotCapable: Requires ffi access to "libc\.so\.6"/],
    ["spawn", undefined, /NotCapable: Requires run access to "\/bin\/sh"/],
    ["exit", undefined, /in the kind sandbox exited with code 3 without declaring it/],
  ];
  try {
    for (const [attempt, path, denied] of cases) {
      const config = `configs/h_${attempt}.yaml`;
      await p.write(config, hostileConfig(attempt, path));
      const r = await p.cliWithEnv({ [SECRET]: "s3cret-value" }, "run", config);
      const what = `${attempt} ${path ?? ""}`;
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /h_\w+\.yaml:3: stages\.h\.uses: kind "hostile_kind": /, what);
      assert.match(r.stderr, denied, what);
      assert.doesNotMatch(r.stdout + r.stderr, /s3cret-value/, what);
    }
    await assert.rejects(Deno.stat(join(outside, "pwned.txt")));
    await assert.rejects(Deno.stat(p.path("pwned.txt")));
  } finally {
    await Deno.remove(outside, { recursive: true });
    await p.dispose();
  }
});

Deno.test("runtime facts: a blas backend grants FFI of exactly the resolved library with glibc's tunables; wasm grants nothing; an env fact needs allow.env", () => {
  const blas = {
    backend: "blas",
    blas_library: "/usr/lib/libopenblas.so.0 (OpenBLAS 0.3.21 Haswell)",
  };
  assert.deepEqual(runtimePermissions(blas).ffi, ["/usr/lib/libopenblas.so.0"]);
  assert.equal(runtimePermissions(blas).env?.PIPELINE_BLAS_LIBRARY, "/usr/lib/libopenblas.so.0");
  assert.match(runtimePermissions(blas).env?.GLIBC_TUNABLES ?? "", /mmap_threshold/);
  assert.deepEqual(runtimePermissions({ backend: "wasm" }), {});
  const request = { env: { machine: "ENG_MACHINE" } };
  assert.deepEqual(runtimeViolations(request, { env: ["ENG_MACHINE"] }), []);
  assert.deepEqual(runtimeViolations(request).map((v) => v.key), ["allow.env"]);
});

/** A kind like `eng_source` that declares `wasmCompilation: <value>` (as source text). */
function wasmKind(value: string): string {
  return `import type { StageKind } from "../../../../pipeline/stage_kind.ts";
import { kind as source, type SourceParams } from "../eng_source/kind.ts";
export const kind: StageKind<SourceParams> = { ...source, wasmCompilation: ${value} };
`;
}

Deno.test("kind sandbox: a baseline-only kind's stage runs with V8's --liftoff-only, a tiered one without", async () => {
  const p = await TestProject.create({
    "w.yaml": "stages:\n  base:\n    uses: eng_wasm\n    with: { value: 1 }\n" +
      "  tiered:\n    uses: eng_source\n    with: { value: 2 }\n",
  });
  try {
    await p.write("stages/eng_wasm/kind.ts", wasmKind(`"baseline-only"`));
    await p.write("stages/eng_wasm/run.ts", `export { run } from "../eng_source/run.ts";\n`);
    const r = await p.cli("run", "configs/w.yaml");
    assert.equal(r.code, 0, r.stderr);
    const granted = async (stage: string) =>
      (await p.read(`artifacts/logs/w/${stage}.log`)).split("\n")
        .find((l) => l.startsWith("granted: ")) ?? "";
    assert.match(await granted("base"), / --v8-flags=--liftoff-only( |$)/);
    assert.doesNotMatch(await granted("tiered"), /--v8-flags/);
  } finally {
    await p.dispose();
  }
});

Deno.test("kind sandbox: an unknown wasmCompilation is an error naming the kind and the values it may take", async () => {
  const p = await TestProject.create({
    "w.yaml": "stages:\n  base:\n    uses: eng_wasm\n    with: { value: 1 }\n",
  });
  try {
    await p.write("stages/eng_wasm/kind.ts", wasmKind(`"fastest" as "tiered"`));
    await p.write("stages/eng_wasm/run.ts", `export { run } from "../eng_source/run.ts";\n`);
    const r = await p.cli("run", "configs/w.yaml");
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /w\.yaml:3: stages\.base\.uses: kind "eng_wasm": wasmCompilation of \S+eng_wasm\/kind\.ts failed: found "fastest"; expected "tiered" or "baseline-only"/,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("kind sandbox: the same kind's questions asked at the same time go to one subprocess; a later one starts another", async () => {
  const p = await TestProject.create({});
  try {
    // Each import of this kind (one per sandbox subprocess) describes itself with a new id.
    await p.write(
      "stages/eng_once/kind.ts",
      `import type { StageKind } from "../../../../pipeline/stage_kind.ts";
import { kind as source, type SourceParams } from "../eng_source/kind.ts";
export const kind: StageKind<SourceParams> = { ...source, description: crypto.randomUUID() };
`,
    );
    const sandbox = new KindSandbox({ root: p.root, graphs: moduleGraphs(p.root) });
    const file = p.path("stages/eng_once/kind.ts");
    const ask = (value: number) => sandbox.declare({ file, uses: "eng_once", withs: [{ value }] });
    const together = (await Promise.all([ask(1), ask(2), ask(1), ask(3)])).flat();
    assert.ok(together.every((d) => d.state === "declared"), JSON.stringify(together));
    const ids = together.map((d) => (d as { description: string }).description);
    assert.equal(new Set(ids).size, 1, `one subprocess answered all four: ${ids}`);
    const [later] = await ask(4);
    assert.equal(later.state, "declared");
    assert.notEqual((later as { description: string }).description, ids[0]);
  } finally {
    await p.dispose();
  }
});

Deno.test("module graphs: one instance per saved file in a process, and a held graph is computed again once a module of it changes", async () => {
  const p = await TestProject.create({});
  try {
    const save = p.path("artifacts/graphs.json");
    const graphs = moduleGraphs(p.root, save);
    assert.equal(moduleGraphs(p.root, save), graphs);
    assert.notEqual(moduleGraphs(p.root), moduleGraphs(p.root));
    const run = p.path("stages/eng_source/run.ts");
    const label = "stages/eng_source/run.ts";
    const before = (await graphs.of([run])).modules[label];
    assert.equal((await graphs.of([run])).modules[label], before);
    await p.append(label, "\n// edited\n");
    const after = (await graphs.of([run])).modules[label];
    assert.ok(before && after && after !== before, `${before} → ${after}`);
  } finally {
    await p.dispose();
  }
});
