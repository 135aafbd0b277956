/**
 * Benchmark of the `train` stage on the real Fashion-MNIST (60,000 training images): the `init:
 * data` initialisation (k-means, per-cluster PCA, k-subspace rounds) for LLGAE (K = 11) and
 * LGAE (K = 1) on the blas backend, with its phases' times (from the progress it reports) and
 * the test MSE it starts from; then the whole
 * `train_llgae` stage of `configs/paper.yaml` in a process of its own, reporting that process's
 * peak resident memory (VmHWM) and the stage's time split into initialisation and epochs.
 * Targets: init ≤ 3 s, peak ≤ 640 MiB. Writes `artifacts/bench/init.json`.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/init_bench.ts`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { run as download } from "../stages/download/run.ts";
import { run as shuffle } from "../stages/shuffle/run.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";
import { readNpyFloat32 } from "../stages/lib/npy.ts";
import { Rng } from "../stages/lib/prng.ts";
import { probeBackend } from "../stages/lib/backend_probe.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { dataInit } from "../stages/train/init.ts";
import { reconstructWith } from "../stages/train/model.ts";
import { dataStageContexts } from "./data_stages.ts";
import type { Progress } from "../pipeline/stage_kind.ts";

const INIT_TARGET_SECONDS = 3;
const RSS_TARGET_MIB = 640;
const summary: Record<string, unknown> = {
  machine: `${navigator.hardwareConcurrency} logical cores, shared with other jobs while measured`,
};
/**
 * Seconds spent in each phase of the initialisation, from its progress reports: the k-means++
 * seeding with the first assignment, the Lloyd iterations with the first accumulation of the
 * cluster moments, the first subspace fit, and the k-subspace rounds (encoder choice, moment
 * update, refit) together. Time before the first report (K = 1: the moments) is in no phase.
 */
function phaseClock() {
  const seconds: Record<string, number> = {};
  let current = "", since = performance.now();
  const name = ({ phase, done, total }: Progress) => {
    if (phase === "init k-means++") return "k-means++ and first assignment";
    if (phase === "init k-means") return "Lloyd and moments";
    if (done === total) return ""; // the last subspace fit has ended
    return done === 0 ? "first subspace fit" : "k-subspace rounds";
  };
  const enter = (phase: string) => {
    const now = performance.now();
    if (current) seconds[current] = (seconds[current] ?? 0) + (now - since) / 1000;
    [current, since] = [phase, now];
  };
  return {
    progress(p: Progress) {
      if (name(p) !== current) enter(name(p));
    },
    seconds,
  };
}

const probe = probeBackend("auto");
if (probe.backend !== "blas") {
  console.log(`init bench: ${probe.notice}`);
  summary.skipped = probe.notice;
} else {
  const { raw, data } = await dataStageContexts();
  await download(raw);
  await shuffle(data);
  await initBackend("blas");
  const { data: images, shape: [n, D] } = await readNpyFloat32(
    join(data.outDir, "train_images.npy"),
  );
  const { data: test, shape: [nTest] } = await readNpyFloat32(join(data.outDir, "test_images.npy"));
  const encoder = { steps: 5, beta: 0.01, latentDecay: 1 };
  const init: Record<
    string,
    { seconds: number; phases: Record<string, number>; test_mse: number }
  > = {};
  for (const K of [11, 1]) {
    const rng = new Rng(28);
    rng.int(0, 2 ** 31 - 1); // as the train stage: its batch-order seed is drawn first
    const clock = phaseClock();
    const t0 = performance.now();
    const start = dataInit({
      images: { data: images, n },
      dims: { K, D, E: 20 },
      encoder,
      rng,
      progress: clock.progress,
    });
    const seconds = (performance.now() - t0) / 1000;
    const params = { mu: tf.tensor2d(start.mu, [K, D]), W: tf.tensor3d(start.W, [K, D, 20]) };
    const { sqErr } = reconstructWith(params, encoder, test, nTest);
    tf.dispose([params.mu, params.W]);
    const testMse = sqErr.reduce((a, b) => a + b, 0) / nTest;
    init[`K${K}`] = { seconds, phases: clock.seconds, test_mse: testMse };
    const phases = Object.entries(clock.seconds).map(([p, s]) => `${p} ${s.toFixed(2)} s`);
    console.log(
      `init data K=${K} E=20 on 60000 images (blas): ${seconds.toFixed(2)} s ` +
        `(target <= ${INIT_TARGET_SECONDS} s; ${phases.join(", ")}), ` +
        `test MSE after init ${testMse.toFixed(3)}`,
    );
  }
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("train_stage_child.ts", import.meta.url).pathname, data.outDir],
    stderr: "inherit",
  }).output();
  if (!child.success) throw new Error("init bench: the train_llgae stage process failed");
  const stage = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
  const initDone = stage.logs.find((l: { message: string }) => l.message.startsWith("after init"));
  console.log(
    `train_llgae stage of configs/paper.yaml in its own process: ${stage.seconds.toFixed(1)} s ` +
      `(init and first test score ${initDone?.at.toFixed(1)} s), peak RSS (VmHWM) ` +
      `${stage.vm_hwm_mib.toFixed(0)} MiB (target <= ${RSS_TARGET_MIB} MiB)`,
  );
  Object.assign(summary, {
    init_seconds: init,
    init_target_seconds: INIT_TARGET_SECONDS,
    train_llgae_stage: {
      seconds: stage.seconds,
      init_seconds: initDone?.at,
      vm_hwm_mib: stage.vm_hwm_mib,
    },
    rss_target_mib: RSS_TARGET_MIB,
  });
  await raw.cleanup();
  await data.cleanup();
}
await Deno.mkdir("artifacts/bench", { recursive: true });
await writeFileAtomic("artifacts/bench/init.json", JSON.stringify(summary, null, 2) + "\n");
console.log("wrote artifacts/bench/init.json");
