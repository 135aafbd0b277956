/**
 * A BLAS stage's thread count is its `resources.cpus`: the engine keys it as the runtime fact
 * `blas_threads` and passes it to the stage process, which opens OpenBLAS with it.
 */
import * as assert from "node:assert/strict";
import { resolveRuntime, runtimePermissions } from "../pipeline/permissions/runtime_facts.ts";
import { BLAS_THREADS_VARIABLE, probeBackend } from "../stages/lib/backend_probe.ts";

const ignore = probeBackend("auto").backend !== "blas";

Deno.test({
  name: "a blas stage's cpus are its BLAS threads: keyed as blas_threads and granted to the stage",
  ignore,
  fn() {
    for (const cpus of [1, 3]) {
      const runtime = resolveRuntime({ tfjs: "blas" }, { cpus });
      assert.equal(runtime.blas_threads, String(cpus));
      assert.equal(runtimePermissions(runtime).env?.[BLAS_THREADS_VARIABLE], String(cpus));
    }
    assert.deepEqual(resolveRuntime({ tfjs: "wasm" }, { cpus: 3 }), { backend: "wasm" });
  },
});

/** `probeBackend("blas")` in a process of its own with `env` (only that env readable). */
async function probeIn(env: Record<string, string>) {
  const code = `import { probeBackend } from ${
    JSON.stringify(
      new URL("../stages/lib/backend_probe.ts", import.meta.url).href,
    )
  };\ntry { console.log(JSON.stringify(probeBackend("blas").threads)); }\n` +
    `catch (e) { console.log(JSON.stringify(String(e.message))); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `--allow-env=${Object.keys(env).join(",")}`,
      "--allow-ffi",
      "--allow-read",
      code,
    ],
    env,
    clearEnv: false,
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "a stage process opens OpenBLAS with the thread count the engine granted",
  ignore,
  async fn() {
    assert.equal(await probeIn({ [BLAS_THREADS_VARIABLE]: "3" }), 3);
    assert.match(
      await probeIn({ [BLAS_THREADS_VARIABLE]: "two" }),
      /PIPELINE_BLAS_THREADS=two: the BLAS thread count must be an integer >= 1/,
    );
  },
});
