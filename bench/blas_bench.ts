/**
 * Benchmarks of the `blas` tfjs backend: GFLOP/s of the training step's main product
 * (360×784 by 784×220) through tfjs on blas, raw OpenBLAS and wasm. Prints readable lines and
 * writes `artifacts/bench/blas.json`. Timings on a shared machine are pessimistic.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/blas_bench.ts`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { DEFAULT_BLAS_THREADS, probeBackend } from "../stages/lib/backend_probe.ts";
import { openBlas } from "../stages/lib/blas/openblas.ts";
import { Rng } from "../stages/lib/prng.ts";
import { writeFileAtomic } from "../stages/lib/atomic_write.ts";

const [M, K, N] = [360, 784, 220];
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
  const blas = openBlas({ threads: DEFAULT_BLAS_THREADS });
  const c = new Float32Array(M * N);
  const rawMs = bestMs(() => blas.sgemm(false, false, M, N, K, a, b, c), 200);
  const blasMs = await tfMatMulMs("blas", 200);
  const wasmMs = await tfMatMulMs("wasm", 20);
  const lines: [string, number][] = [
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
    matmul_ms: { raw_sgemm: rawMs, tf_blas: blasMs, tf_wasm: wasmMs },
    matmul_gflops: { raw_sgemm: gflops(rawMs), tf_blas: gflops(blasMs), tf_wasm: gflops(wasmMs) },
    matmul_target_gflops: 100,
  });
}

await Deno.mkdir("artifacts/bench", { recursive: true });
await writeFileAtomic("artifacts/bench/blas.json", JSON.stringify(summary, null, 2) + "\n");
console.log("wrote artifacts/bench/blas.json");
