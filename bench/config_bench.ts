/**
 * Config-loading benchmark: time to load generated chains of 2,500, 5,000 and 10,000 stages
 * (the stage limit), and the ratio of the largest to the smallest per stage (1 when loading is
 * linear; the issue-12 quadratic steps made it grow with the size), plus the time to refuse a
 * 10 MB config (over the size limit). Writes `artifacts/bench/config.json`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPipeline } from "../pipeline/config/config.ts";
import { chainConfig, CONFIG_FIXTURE_KINDS } from "../tests/fixtures/config_chain.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";

const OUT = fileURLToPath(new URL("../artifacts/bench/config.json", import.meta.url));
const SIZES = [2_500, 5_000, 10_000];

const dir = await Deno.makeTempDir({ prefix: "config_bench_" });
/** Milliseconds to load (or be refused) `text`. */
async function timeLoad(name: string, text: string): Promise<number> {
  const file = join(dir, name);
  await Deno.writeTextFile(file, text);
  const t0 = performance.now();
  await loadPipeline(file, { stagesRoot: CONFIG_FIXTURE_KINDS }).catch(() => {});
  return performance.now() - t0;
}

await timeLoad("warm.yaml", chainConfig(100)); // kind imports and JIT warm-up
const loads: Record<string, number> = {};
for (const n of SIZES) {
  loads[n] = Math.round(await timeLoad(`chain${n}.yaml`, chainConfig(n)));
  console.log(`${n} stages: ${loads[n]} ms`);
}
const perStage = SIZES.map((n) => loads[n] / n);
const refuse = Math.round(await timeLoad("huge.yaml", `stages: [${"0,".repeat(5e6)}0]\n`));
console.log(`10 MB config refused in ${refuse} ms`);
const summary = {
  load_ms: loads,
  per_stage_ratio_largest_to_smallest: +(perStage.at(-1)! / perStage[0]).toFixed(2),
  refuse_10mb_ms: refuse,
};
await Deno.remove(dir, { recursive: true });
await Deno.mkdir(join(OUT, ".."), { recursive: true });
await writeFileAtomic(OUT, JSON.stringify(summary, null, 2) + "\n");
console.log(JSON.stringify(summary));
