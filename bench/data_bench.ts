/**
 * Benchmark of the data stages on the full Fashion-MNIST: `download` from the local Debian
 * mirror (read, gunzip, idx checks, sha256) then `shuffle` (parse, seed-28 permutation, per-image
 * centring, .npy + meta.json), each run cold (fresh output dirs, nothing cached), in-process
 * (no subprocess start-up). Target: ≤ 5 s for both together on 2 cores. Prints readable lines
 * and writes `artifacts/bench/data.json`. Timings on a shared machine are pessimistic.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/data_bench.ts`
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { DEBIAN_MIRROR } from "../stages/download/fashion_mnist.ts";
import { run as download } from "../stages/download/run.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";
import { run as shuffle } from "../stages/shuffle/run.ts";
import { dataStageContexts } from "./data_stages.ts";

const REPEATS = 3;
const TARGET_SECONDS = 5;
const summaryPath = fileURLToPath(new URL("../artifacts/bench/data.json", import.meta.url));

/** Seconds `f` takes. */
async function seconds(f: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await f();
  return (performance.now() - start) / 1000;
}

/** One cold run of download then shuffle; returns the seconds of each. */
async function coldRun(): Promise<{ download_s: number; shuffle_s: number; total_s: number }> {
  const { raw, data } = await dataStageContexts();
  try {
    const download_s = await seconds(() => download(raw));
    const shuffle_s = await seconds(() => shuffle(data));
    return { download_s, shuffle_s, total_s: download_s + shuffle_s };
  } finally {
    await raw.cleanup();
    await data.cleanup();
  }
}

await Deno.mkdir(dirname(summaryPath), { recursive: true });
if (!(await Deno.stat(DEBIAN_MIRROR).then(() => true, () => false))) {
  const reason = `${DEBIAN_MIRROR} is absent (apt-get install dataset-fashion-mnist)`;
  console.log(`data bench skipped: ${reason}`);
  await writeFileAtomic(summaryPath, JSON.stringify({ skipped: reason }, null, 2) + "\n");
  Deno.exit(0);
}

const runs = [];
for (let i = 1; i <= REPEATS; i++) {
  const run = await coldRun();
  runs.push(run);
  console.log(
    `run ${i}: download (mirror, gunzip, verify) ${run.download_s.toFixed(2)} s, ` +
      `shuffle (parse, permute, centre, write) ${run.shuffle_s.toFixed(2)} s, ` +
      `total ${run.total_s.toFixed(2)} s`,
  );
}
const best = Math.min(...runs.map((run) => run.total_s));
const first = runs[0].total_s;
console.log(
  `data: first cold run ${first.toFixed(2)} s, best of ${REPEATS} ${best.toFixed(2)} s ` +
    `(target ≤ ${TARGET_SECONDS} s: ${first <= TARGET_SECONDS ? "met" : "MISSED"})`,
);
await writeFileAtomic(
  summaryPath,
  JSON.stringify(
    {
      machine:
        `${navigator.hardwareConcurrency} logical cores, shared with other jobs while measured`,
      what:
        "download from the Debian mirror + verify + parse + shuffle (seed 28), full dataset, cold",
      runs,
      first_total_s: first,
      best_total_s: best,
      target_s: TARGET_SECONDS,
      target_met: first <= TARGET_SECONDS,
    },
    null,
    2,
  ) + "\n",
);
