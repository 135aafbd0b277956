/**
 * Benchmark of the `train` stage on the full Fashion-MNIST (60,000 training images): seconds per
 * LLGAE epoch (K=11, E=20, T=5, β=0.01, batch 360) and per LGAE epoch (K=1) on the wasm backend,
 * the peak RSS of the process, the live tensor count after each epoch, and for contrast the
 * literal formulation's seconds per batch extrapolated to an epoch. Target: ≤ 30 s per LLGAE
 * epoch. Timings on a shared machine are pessimistic. Prints readable lines and writes
 * `artifacts/bench/train.json`.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/train_bench.ts [epochs]` (default 2 epochs per model)
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // gradients
import { dirname, join } from "node:path";
import { cpuUsage } from "node:process";
import { fileURLToPath } from "node:url";
import { run as download } from "../stages/download/run.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";
import { readNpyFloat32 } from "../stages/lib/npy.ts";
import { run as shuffle } from "../stages/shuffle/run.ts";
import { kind as trainKind } from "../stages/train/kind.ts";
import { lossLiteral } from "../stages/train/model.ts";
import { run as train } from "../stages/train/run.ts";
import { stageContext } from "../tests/fixtures/report/context.ts";
import { dataStageContexts } from "./data_stages.ts";

const TARGET_SECONDS = 30;
const epochs = Number(Deno.args[0] ?? 2);
const summaryPath = fileURLToPath(new URL("../artifacts/bench/train.json", import.meta.url));

/** Peak resident set size of this process so far (VmHWM), in MiB. */
function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return match ? Number(match[1]) / 1024 : Deno.memoryUsage().rss / 2 ** 20;
}

/** CPU seconds (user + system) this process has used. */
function cpuSeconds(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1e6;
}

const { raw, data } = await dataStageContexts();
await download(raw);
await shuffle(data);

const results: Record<string, unknown> = {};
for (const [name, components] of [["llgae", 11], ["lgae", 1]] as const) {
  const ctx = await stageContext(
    trainKind,
    { components, epochs, init: "data", backend: "wasm" },
    { data: [{ stage: "shuffle", dir: data.outDir }] },
    undefined,
    `train_${name}`,
  );
  const tensors: number[] = [];
  const cpu: number[] = []; // process CPU seconds (user + system) at the end of each epoch
  let cpuMark = cpuSeconds();
  ctx.log = (message) => {
    if (message.startsWith("epoch ")) {
      tensors.push(tf.memory().numTensors);
      cpu.push(cpuSeconds() - cpuMark);
      cpuMark = cpuSeconds();
    }
    console.log(`${name}: ${message}`);
  };
  const started = performance.now();
  await train(ctx);
  const history = (await Deno.readTextFile(join(ctx.outDir, "history.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line) as { seconds: number; test_mse: number });
  const metrics = JSON.parse(await Deno.readTextFile(join(ctx.outDir, "metrics.json")));
  results[name] = {
    components,
    epochs,
    epoch_seconds: history.map((h) => h.seconds),
    epoch_cpu_seconds: cpu.slice(1), // the first includes initialisation
    test_mse: history.map((h) => h.test_mse),
    init_test_mse: metrics.init_test_mse,
    stage_seconds: (performance.now() - started) / 1000,
    tensors_after_epoch: tensors,
    peak_rss_mib_so_far: peakRssMiB(),
  };
  await ctx.cleanup();
}

// The literal formulation (per-step products as the note writes them), a few batches.
const { data: images } = await readNpyFloat32(join(data.outDir, "train_images.npy"));
const K = 11, D = 784, E = 20, B = 360, batches = 3;
const literal = tf.tidy(() => {
  const mu = tf.tensor2d(images.subarray(0, K * D), [K, D]);
  const W = tf.mul(0.3, tf.ones([K, D, E]));
  const encoder = { steps: 5, beta: 0.01, latentDecay: 1 };
  const gradients = tf.grads((m: tf.Tensor, w: tf.Tensor) =>
    lossLiteral({ mu: m as tf.Tensor2D, W: w as tf.Tensor3D }, x, encoder).loss
  );
  let x = tf.tensor2d(images.subarray(0, B * D), [B, D]);
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    x = tf.tensor2d(images.subarray(b * B * D, (b + 1) * B * D), [B, D]);
    gradients([mu, W])[1].dataSync();
  }
  return (performance.now() - started) / 1000 / batches;
});
const llgae = results.llgae as { epoch_seconds: number[] };
const meanEpoch = llgae.epoch_seconds.reduce((a, b) => a + b, 0) / llgae.epoch_seconds.length;
const llgaeCpu = (results.llgae as { epoch_cpu_seconds: number[] }).epoch_cpu_seconds;
const summary = {
  backend: "wasm",
  ...results,
  llgae_mean_epoch_seconds: meanEpoch,
  llgae_mean_epoch_cpu_seconds: llgaeCpu.length
    ? llgaeCpu.reduce((a, b) => a + b, 0) / llgaeCpu.length
    : null,
  target_epoch_seconds: TARGET_SECONDS,
  meets_target: meanEpoch <= TARGET_SECONDS,
  literal_seconds_per_batch: literal,
  literal_epoch_seconds_extrapolated: literal * Math.ceil(60000 / B),
  peak_rss_mib: peakRssMiB(),
  load_average: Deno.loadavg(),
  note: "2-core machine shared with other jobs: timings are pessimistic",
};
console.log(
  `LLGAE epoch (60,000 images, K=11) on wasm: ${
    meanEpoch.toFixed(1)
  } s (target ≤ ${TARGET_SECONDS} s)`,
);
console.log(
  `literal formulation: ${literal.toFixed(2)} s/batch ≈ ${
    summary.literal_epoch_seconds_extrapolated.toFixed(0)
  } s/epoch`,
);
console.log(
  `peak RSS ${summary.peak_rss_mib.toFixed(0)} MiB; load average ${Deno.loadavg().join(" ")}`,
);
await Deno.mkdir(dirname(summaryPath), { recursive: true });
await writeFileAtomic(summaryPath, JSON.stringify(summary, null, 2) + "\n");
for (const ctx of [raw, data]) await ctx.cleanup();
