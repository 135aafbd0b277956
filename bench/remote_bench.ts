/**
 * Remote-cache benchmark: a cold run of a config (empty cache, every stage computed) against a
 * full pull of the same results from the remote cache into a second clean checkout, measured
 * in the same run on the same machine (target: the pull ≥ 10× faster). The server is Debian's
 * nginx (WebDAV) on loopback, started here as an ordinary process. Also times the explicit
 * `pipeline push` of the cold run's results. The config is configs/paper.yaml, or
 * $REMOTE_BENCH_CONFIG (e.g. configs/smoke.yaml on a busy machine).
 * Writes `artifacts/bench/remote.json`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../common/atomic_write.ts";
import { checkout, cliArgs } from "../tests/fixtures/checkout.ts";
import { startNginx } from "../tests/fixtures/nginx/server.ts";
import { timed } from "./timed.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(REPO, "artifacts", "bench", "remote.json");
const CONFIG = Deno.env.get("REMOTE_BENCH_CONFIG") ?? "configs/paper.yaml";
const TARGET_SPEEDUP = 10;

/** Runs the pipeline CLI in `root`; returns the wall seconds and output. */
function pipeline(root: string, ...args: string[]) {
  return timed(Deno.execPath(), cliArgs(root, args), root);
}

/** The last `stages: …` line of a run's output. */
function summaryOf(text: string): string {
  return [...text.matchAll(/^stages: .*$/gm)].pop()?.[0] ?? "(no summary line)";
}

const server = await startNginx();
const dirs = ["stages", "configs", "common", "pipeline"];
const cold = await checkout({ prefix: "remote_bench_cold_", dirs });
const clean = await checkout({ prefix: "remote_bench_clean_", dirs });
try {
  console.log(`remote: cold run of ${CONFIG} (every stage computed) …`);
  const run = await pipeline(cold, "run", CONFIG, "--no-remote");
  console.log(`remote: cold run ${run.seconds.toFixed(1)} s: ${summaryOf(run.text)}`);
  if (!/^stages: \d+ ran, 0 cached, 0 failed$/m.test(run.text)) {
    throw new Error(`the cold run was not cold:\n${run.text}`);
  }
  const push = await pipeline(cold, "push", CONFIG, "--remote", server.url);
  const pushLine = push.text.trim().split("\n").pop()!;
  console.log(`remote: push ${push.seconds.toFixed(1)} s: ${pushLine}`);

  const pull = await pipeline(clean, "run", CONFIG, "--remote", server.url, "--no-push");
  console.log(
    `remote: pull into a clean checkout ${pull.seconds.toFixed(1)} s: ${summaryOf(pull.text)}`,
  );
  if (!/^stages: 0 ran, 0 cached, 0 failed, \d+ pulled/m.test(pull.text)) {
    throw new Error(`the clean checkout did not pull every stage:\n${pull.text}`);
  }
  const same = await timed("diff", [
    "-r",
    join(cold, "artifacts/out"),
    join(clean, "artifacts/out"),
  ], REPO)
    .then(() => true, () => false);
  const speedup = run.seconds / pull.seconds;
  const bytesMoved = Number(/\((\d+) bytes\)/.exec(pushLine)?.[1] ?? NaN);
  const summary = {
    config: CONFIG,
    cold_run_seconds: round(run.seconds),
    push_seconds: round(push.seconds),
    pull_run_seconds: round(pull.seconds),
    speedup: round(speedup),
    target_speedup: TARGET_SPEEDUP,
    meets_target: speedup >= TARGET_SPEEDUP,
    bytes_moved: bytesMoved,
    published_outputs_identical: same,
    server: "nginx (Debian, WebDAV) on 127.0.0.1",
    cores: navigator.hardwareConcurrency,
    note: "whole-process wall time (Deno binary started directly); machine shared with other jobs",
    date: new Date().toISOString(),
  };
  console.log(
    `remote: pull ${summary.speedup}× faster than the cold run (target ≥ ${TARGET_SPEEDUP}×: ${
      summary.meets_target ? "met" : "NOT met"
    }); published outputs identical: ${same}`,
  );
  await Deno.mkdir(join(OUT, ".."), { recursive: true });
  await writeFileAtomic(OUT, JSON.stringify(summary, null, 2) + "\n");
  console.log(`wrote ${OUT}`);
} finally {
  await server.stop();
  await Deno.remove(cold, { recursive: true });
  await Deno.remove(clean, { recursive: true });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
