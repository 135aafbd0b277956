import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collect, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const SLOW_A = SIX_STAGES.replace("with: { value: 1 }", "with: { value: 1, sleep_ms: 20000 }");
const REPEATS = 10;

/**
 * Starts `deno task pipeline run` in a process group of its own, as a shell starts a
 * foreground job: the terminal's Ctrl-C then goes to the whole group (the task runner, which
 * forwards it to the engine again, the engine, and the stage subprocesses).
 */
function spawnTask(p: TestProject, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", `--config=${join(REPO, "deno.json")}`, "pipeline", "--root", p.root, ...args],
    cwd: p.root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
}

/** Resolves once `text` appears on the stream; the returned promise gives all of it at the end. */
function watch(stream: ReadableStream<Uint8Array>, text: string) {
  let seen = "";
  let found!: () => void;
  const appeared = new Promise<void>((r) => (found = r));
  const all = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      seen += chunk;
      if (seen.includes(text)) found();
    }
    return seen;
  })();
  return { appeared, all };
}

Deno.test("interrupt: one Ctrl-C under deno task stops in order with a summary and exit 130, every time", async () => {
  const p = await TestProject.create({ "six.yaml": SLOW_A });
  try {
    const outcomes: string[] = [];
    for (let i = 0; i < REPEATS; i++) {
      // A new value each time: a new key, so stage a starts afresh (no checkpoint to resume).
      const child = spawnTask(p, ["run", "configs/six.yaml", "--set", `stages.a.with.value=${i}`]);
      const err = watch(child.stderr, "a | starting fresh");
      const out = watch(child.stdout, "\u0000never");
      await err.appeared;
      Deno.kill(-child.pid, "SIGINT");
      const status = await child.status;
      const [stdout, stderr] = await Promise.all([out.all, err.all]);
      const r = collect({
        code: status.code,
        stdout: new TextEncoder().encode(stdout),
        stderr: new TextEncoder().encode(stderr),
      } as Deno.CommandOutput);
      assert.equal(r.code, 130, `run ${i}: exit ${r.code}\n${stderr}\n${stdout}`);
      assert.ok(r.summary, `run ${i}: no summary line\n${stderr}\n${stdout}`);
      assert.equal(r.summary.failed, 0, `run ${i}: interruption counted as a failure\n${stderr}`);
      assert.doesNotMatch(stderr, /^failed: /m, `run ${i}: a stage reported as failed`);
      assert.match(stderr, /interrupted: stopping running stages/);
      outcomes.push(`${r.code}`);
    }
    assert.deepEqual(outcomes, Array(REPEATS).fill("130"));
  } finally {
    await p.dispose();
  }
});
