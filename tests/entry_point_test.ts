/**
 * `bin/pipeline`, the short entry point: works from any directory, prints nothing of its own
 * (no task echo, no download lines), and passes the engine's exit code through.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const ENTRY = fileURLToPath(new URL("../bin/pipeline", import.meta.url));

async function entry(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(ENTRY, {
    args,
    cwd: "/",
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("bin/pipeline: runs from any directory with the Deno it finds, quietly, with the engine's exit code", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    // $PIPELINE_DENO names the Deno running this test (the pinned version).
    const env = { PIPELINE_DENO: Deno.execPath() };
    const run = await entry(["--root", p.root, "run", "configs/six.yaml"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /stages: 6 ran, 0 cached, 0 failed\n$/);
    assert.doesNotMatch(run.stderr, /Task pipeline|Download|Initialize/);
    const quiet = await entry(["--root", p.root, "status", "configs/six.yaml", "-q"], env);
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
    const bad = await entry(["--root", p.root, "run", "--bogus"], env);
    assert.equal(bad.code, 2);
  } finally {
    await p.dispose();
  }
});
