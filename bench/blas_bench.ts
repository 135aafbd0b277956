/**
 * Benchmarks of the `blas` tfjs backend: GFLOP/s of the training step's main product
 * (360×784 by 784×220) through tfjs on blas, raw OpenBLAS and wasm; then LLGAE epochs (60,000
 * seeded random images, K = 11, E = 20, T = 5, batch 360, the train stage's RMSprop) on blas,
 * the fused step's epochs, then the tfjs step's (its reference), the fused step's one
 * batch-sized product timed alone, and PyTorch's epoch of the same formulation in the same run
 * (Debian's python3-torch, `bench/torch_llgae_epoch.py`; `BENCH_TORCH_EPOCHS`, default 1).
 * Prints readable lines and writes `artifacts/bench/blas.json`. Timings on a shared machine are
 * pessimistic; read the ratios of one run.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/blas_bench.ts`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // registers the gradients (tfjs-core alone has none)
import { makeTrainer, type StepFormulation } from "../stages/train/trainer.ts";
import { imageNorms } from "../stages/train/fused_gradients.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { DEFAULT_BLAS_THREADS, probeBackend } from "../stages/lib/backend_probe.ts";
import { openBlas } from "../stages/lib/blas/openblas.ts";
import { Rng } from "../stages/lib/prng.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";
import process from "node:process";

const [M, K, N] = [360, 784, 220];
/** Epochs of each formulation, taken in turn. */
const EPOCH_ROUNDS = 3;
/** PyTorch epochs (10–90 s each on this shared machine). */
const TORCH_EPOCHS = Number(Deno.env.get("BENCH_TORCH_EPOCHS") ?? 1);
const FLOP = 2 * M * K * N;

function randomValues(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.float() * 2 - 1;
  return out;
}

/**
 * Fastest milliseconds of `f` over `reps` runs after `warmup` runs: on a machine shared with
 * other jobs, the fastest run is the closest to what the code itself costs.
 */
function bestMs(f: () => void, reps: number, warmup = 20): number {
  for (let i = 0; i < warmup; i++) f();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const rng = new Rng(1);
const a = randomValues(rng, M * K);
const b = randomValues(rng, K * N);
const gflops = (ms: number) => FLOP / ms / 1e6;

async function tfMatMulMs(backend: "blas" | "wasm", reps: number): Promise<number> {
  await initBackend(backend);
  const ta = tf.tensor2d(a, [M, K]);
  const tb = tf.tensor2d(b, [K, N]);
  const ms = bestMs(() => tf.tidy(() => void tf.matMul(ta, tb).dataSync()), reps);
  tf.dispose([ta, tb]);
  return ms;
}

const probe = probeBackend("auto");
const summary: Record<string, unknown> = {
  machine: `${navigator.hardwareConcurrency} logical cores, shared with other jobs while measured`,
  product: `${M}x${K} by ${K}x${N}`,
};
if (probe.backend !== "blas") {
  console.log(`blas bench: ${probe.notice}`);
  summary.skipped = probe.notice;
} else {
  const c = new Float32Array(M * N);
  const one = openBlas({ threads: 1 });
  const oneThreadMs = bestMs(() => one.sgemm(false, false, M, N, K, a, b, c), 100);
  const blas = openBlas({ threads: DEFAULT_BLAS_THREADS });
  const rawMs = bestMs(() => blas.sgemm(false, false, M, N, K, a, b, c), 200);
  const blasMs = await tfMatMulMs("blas", 200);
  const wasmMs = await tfMatMulMs("wasm", 20);
  const lines: [string, number][] = [
    ["raw cblas_sgemm (1 thread)", oneThreadMs],
    [`raw cblas_sgemm (${blas.threads} threads)`, rawMs],
    [`tf.matMul on blas (${blas.threads} threads)`, blasMs],
    ["tf.matMul on wasm (1 thread, SIMD)", wasmMs],
  ];
  for (const [what, ms] of lines) {
    console.log(`${what.padEnd(40)} ${ms.toFixed(3)} ms  ${gflops(ms).toFixed(1)} GFLOP/s`);
  }
  Object.assign(summary, {
    library: probe.library,
    threads: blas.threads,
    matmul_ms: { raw_sgemm_1: oneThreadMs, raw_sgemm: rawMs, tf_blas: blasMs, tf_wasm: wasmMs },
    matmul_gflops: {
      raw_sgemm_1: gflops(oneThreadMs),
      raw_sgemm: gflops(rawMs),
      tf_blas: gflops(blasMs),
      tf_wasm: gflops(wasmMs),
    },
    matmul_target_gflops: 100,
  });
}

/** Seeded images on the 0–255 scale, each centred on its own mean (like the shuffle stage). */
function randomImages(rng: Rng, n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[i * d + j] = Math.floor(rng.float() * 256);
    mean /= d;
    for (let j = 0; j < d; j++) x[i * d + j] -= mean;
  }
  return x;
}

const [LK, LD, LE, BATCH] = [11, 784, 20, 360];

/**
 * A trainer in `formulation` on the active backend (the train stage's RMSprop(1e-3), PyTorch's
 * formula) with a warm-up of 5 steps, and a function running one epoch of seeded shuffled
 * batches that returns its wall and process CPU seconds and last loss.
 */
function epochRunner(images: Float32Array, n: number, formulation: StepFormulation) {
  const rng = new Rng(28);
  const trainer = makeTrainer({
    dims: { K: LK, D: LD, E: LE },
    encoder: { steps: 5, beta: 0.01, latentDecay: 1 },
    optimizer: { optimizer: "rmsprop", lr: 1e-3 },
    start: {
      mu: randomValues(rng, LK * LD),
      W: randomValues(rng, LK * LD * LE).map((v) => v * 0.05),
    },
    backend: tf.getBackend(),
    formulation,
  });
  const batch = new Float32Array(BATCH * LD);
  // As the train stage does: the fused step gets each image's ‖x‖², computed once.
  const norms = formulation === "fused" ? imageNorms(images, n, LD) : undefined;
  const batchNorms = new Float64Array(BATCH);
  const steps = (order: Int32Array, count: number) => {
    let loss = 0;
    for (let start = 0; start < count * BATCH && start < n; start += BATCH) {
      const rows = Math.min(BATCH, n - start);
      for (let i = 0; i < rows; i++) {
        batch.set(images.subarray(order[start + i] * LD, (order[start + i] + 1) * LD), i * LD);
        if (norms) batchNorms[i] = norms[order[start + i]];
      }
      loss = trainer.step(batch, rows, norms && batchNorms);
    }
    return loss;
  };
  steps(rng.permutation(n), 5);
  return {
    epoch() {
      const order = rng.permutation(n);
      const t0 = performance.now(), cpu0 = process.cpuUsage();
      const loss = steps(order, Infinity);
      const cpu = process.cpuUsage(cpu0);
      return {
        seconds: (performance.now() - t0) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        loss,
      };
    },
    dispose: () => trainer.dispose(),
  };
}

/** PyTorch's epochs of the same model and formulation (Debian's python3-torch), or why not. */
async function torchEpochs(epochs: number): Promise<{ seconds?: number[]; note: string }> {
  const script = new URL("torch_llgae_epoch.py", import.meta.url).pathname;
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      const out = await new Deno.Command(python, { args: [script, String(epochs)] }).output();
      if (!out.success) continue;
      const result = JSON.parse(new TextDecoder().decode(out.stdout));
      return {
        seconds: result.epoch_seconds,
        note: `PyTorch ${result.torch}, ${result.threads} threads (${python})`,
      };
    } catch {
      continue;
    }
  }
  return { note: "PyTorch not measured: no python3 with torch (apt-get install python3-torch)" };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");

if (probe.backend === "blas") {
  const n = 60000;
  const images = randomImages(new Rng(7), n, LD);
  await initBackend("blas");
  // The fused step's epochs first, then the reference's: a tfjs epoch leaves a large heap whose
  // collection would otherwise land in the next fused epoch.
  const runners = {
    fused: epochRunner(images, n, "fused"),
    tfjs: epochRunner(images, n, "tfjs"),
  };
  const epochs: Record<StepFormulation, ReturnType<typeof runners.fused.epoch>[]> = {
    fused: [],
    tfjs: [],
  };
  for (const f of ["fused", "tfjs"] as const) {
    for (let round = 0; round < EPOCH_ROUNDS; round++) epochs[f].push(runners[f].epoch());
  }
  runners.fused.dispose();
  runners.tfjs.dispose();
  // Where a fused step's time goes: its one batch-sized product, timed alone, against the step.
  const blas = openBlas({ threads: DEFAULT_BLAS_THREADS });
  const NC = LK * LE + LK;
  const packed = new Float32Array(LD * NC), product = new Float32Array(BATCH * NC);
  const productMs = bestMs(
    () => blas.sgemm(false, false, BATCH, NC, LD, images, packed, product),
    100,
  );
  const stepsPerEpoch = Math.ceil(n / BATCH);
  const torch = await torchEpochs(TORCH_EPOCHS);
  const fusedSeconds = epochs.fused.map((e) => e.seconds);
  const tfjsSeconds = epochs.tfjs.map((e) => e.seconds);
  const fusedMedian = median(fusedSeconds), tfjsMedian = median(tfjsSeconds);
  const stepMs = fusedMedian / stepsPerEpoch * 1000;
  console.log(
    `LLGAE epoch on blas, fused step (60000 images, K=11 E=20 T=5 batch 360): ` +
      `${list(fusedSeconds)} s, median ${fusedMedian.toFixed(2)} s (target <= 0.6 s; process ` +
      `CPU ${list(epochs.fused.map((e) => e.cpuSeconds))} s), last loss ${
        epochs.fused.at(-1)!.loss.toFixed(1)
      }`,
  );
  console.log(
    `LLGAE epoch on blas, tfjs step (the reference), same rounds: ${list(tfjsSeconds)} s, ` +
      `median ${tfjsMedian.toFixed(2)} s; fused is ${
        (tfjsMedian / fusedMedian).toFixed(1)
      }× faster`,
  );
  console.log(
    `fused step ${stepMs.toFixed(2)} ms (median epoch / ${stepsPerEpoch} steps), of which the ` +
      `batch-sized product ${BATCH}x${LD} by ${LD}x${NC} takes ${productMs.toFixed(2)} ms alone`,
  );
  console.log(
    torch.seconds
      ? `LLGAE epoch in ${torch.note}, same run: ${list(torch.seconds)} s, median ${
        median(torch.seconds).toFixed(2)
      } s (${(median(torch.seconds) / fusedMedian).toFixed(1)}× the fused step's)`
      : torch.note,
  );
  Object.assign(summary, {
    llgae_epoch_seconds: { fused: fusedSeconds, tfjs: tfjsSeconds, pytorch: torch.seconds },
    llgae_epoch_median_seconds: {
      fused: fusedMedian,
      tfjs: tfjsMedian,
      pytorch: torch.seconds ? median(torch.seconds) : null,
    },
    llgae_epoch_cpu_seconds: {
      fused: epochs.fused.map((e) => e.cpuSeconds),
      tfjs: epochs.tfjs.map((e) => e.cpuSeconds),
    },
    llgae_epoch_target_seconds: 0.6,
    pytorch: torch.note,
    fused_step_ms: stepMs,
    fused_step_product_ms: productMs,
  });
}

await Deno.mkdir("artifacts/bench", { recursive: true });
await writeFileAtomic("artifacts/bench/blas.json", JSON.stringify(summary, null, 2) + "\n");
console.log("wrote artifacts/bench/blas.json");
