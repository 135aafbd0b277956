/**
 * Experiments benchmark: a 4-variant sweep of LLGAE's `components` on the smoke data
 * (configs/smoke.yaml), three times with `--jobs 1` and three times with `--jobs 2`, interleaved
 * (see {@link ORDER}), in the same run on the same machine; reports every wall time, each side's
 * median and the ratio of the medians (target: `--jobs 2` at most 0.65 × the serial time on 2
 * cores). Each is one whole `exp run --sweep` command on a throw-away copy of the project (its own
 * engine and `artifacts/`), run as `bin/pipeline` runs it, in two scenarios: from an empty cache
 * (`cold`: the sweep downloads and shuffles the data first) and after an untimed run of the base
 * config (`after-base`: download, shuffle and the LGAE training are cached, as when a sweep
 * follows a first run; the base run's K is not one of the sweep's). Also reports each run's CPU seconds (the engine and all its stage
 * processes), and two ratios that bound what scheduling can reach: the serial run's CPU time
 * spread over every core with none idle, and the parallel run's own. Writes
 * `artifacts/bench/exp.json`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../common/atomic_write.ts";
import { nodeModulesFlags } from "../pipeline/store/layout.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(REPO, "artifacts", "bench", "exp.json");
const SWEEP = "stages.train_llgae.with.components=3,5,8,11";
const TARGET = 0.65;
/** The base run's K in the `after-base` scenario: none of the sweep's. */
const BASE_K = "stages.train_llgae.with.components=2";

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/**
 * A copy of the project without artifacts, run by its own engine (so stages find their npm
 * files beside themselves): code and configs copied, `node_modules/` hard-linked.
 */
async function projectCopy(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "exp_bench_" });
  for (const dir of ["pipeline", "common", "stages", "configs"]) {
    await copyDir(join(REPO, dir), join(root, dir));
  }
  for (const file of ["deno.json", "deno.lock"]) {
    await Deno.copyFile(join(REPO, file), join(root, file));
  }
  const link = await new Deno.Command("cp", {
    args: ["-al", join(REPO, "node_modules"), join(root, "node_modules")],
  }).output();
  if (!link.success) {
    throw new Error(`cp -al node_modules: ${new TextDecoder().decode(link.stderr)}`);
  }
  return root;
}

/**
 * CPU seconds (user + system) of this process's finished children and their waited-for
 * descendants (`cutime` + `cstime` of /proc/self/stat): the engine and every stage process.
 */
function childrenCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3, state
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond; // fields 16 and 17
}

/** Where a sweep starts from. */
type Scenario = "cold" | "after-base";

/** Runs the project copy's engine with `args`; its stdout, or an error with both outputs. */
async function pipeline(root: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${join(root, "deno.json")}`,
      ...nodeModulesFlags(), // as for the project it copies (same node_modules/, same lock times)
      join(root, "pipeline", "cli", "main.ts"),
      "--root",
      root,
      ...args,
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `pipeline ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

/** Wall and CPU seconds of the sweep with `jobs`, from an empty cache or after the base run. */
async function sweepSeconds(
  root: string,
  jobs: number,
  scenario: Scenario,
): Promise<{ wall: number; cpu: number }> {
  await Deno.remove(join(root, "artifacts"), { recursive: true }).catch(() => {});
  // The base run trains a K that is not swept (smoke's own K = 11 is), so all 4 variants train.
  if (scenario === "after-base") {
    await pipeline(root, ["run", "configs/smoke.yaml", "--set", BASE_K]);
  }
  const t0 = performance.now(), cpu0 = childrenCpuSeconds();
  const text = await pipeline(root, [
    "exp",
    "run",
    "k",
    "configs/smoke.yaml",
    "--sweep",
    SWEEP,
    "--jobs",
    String(jobs),
  ]);
  const seconds = (performance.now() - t0) / 1000, cpu = childrenCpuSeconds() - cpu0;
  console.log(
    `${scenario} --jobs ${jobs}: ${seconds.toFixed(1)} s, ${cpu.toFixed(1)} s CPU (${
      (cpu / seconds).toFixed(2)
    } cores on average)  (${text.trim().split("\n").pop()})`,
  );
  return { wall: seconds, cpu };
}

/**
 * The order the sweeps run in: `--jobs 1`, `--jobs 2`, `--jobs 2`, `--jobs 1`, … (ABBA), so that
 * a drift of the machine's speed during the benchmark (up to 30 % within minutes here) weighs on
 * both sides alike; each side's median is compared.
 */
const ORDER = [1, 2, 2, 1, 1, 2];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One scenario's sweeps in {@link ORDER}, and what they give. */
async function scenarioSummary(root: string, scenario: Scenario) {
  const runs: Record<number, { wall: number; cpu: number }[]> = { 1: [], 2: [] };
  for (const jobs of ORDER) runs[jobs].push(await sweepSeconds(root, jobs, scenario));
  const side = (jobs: number) => ({
    wall: median(runs[jobs].map((r) => r.wall)),
    cpu: median(runs[jobs].map((r) => r.cpu)),
  });
  const serial = side(1), parallel = side(2);
  const ratio = parallel.wall / serial.wall;
  const cores = navigator.hardwareConcurrency;
  // Each side's CPU time spread over every core, none idle, against the serial wall time.
  const serialSpread = serial.cpu / cores / serial.wall;
  const parallelSpread = parallel.cpu / cores / serial.wall;
  const walls = (jobs: number) => runs[jobs].map((r) => Number(r.wall.toFixed(1)));
  console.log(
    `${scenario}: exp sweep of 4 (medians of ${runs[1].length} runs each, ABBA order): --jobs 1 ${
      serial.wall.toFixed(1)
    } s (${walls(1).join(", ")}), --jobs 2 ${parallel.wall.toFixed(1)} s (${
      walls(2).join(", ")
    }), ratio ${ratio.toFixed(3)} (target ≤ ${TARGET}: ${
      ratio <= TARGET ? "met" : "NOT met"
    }); all CPU time on both cores, none idle, would give ${serialSpread.toFixed(3)} (the serial ` +
      `runs' CPU) or ${parallelSpread.toFixed(3)} (the parallel runs')`,
  );
  return {
    jobs1_runs_seconds: walls(1),
    jobs2_runs_seconds: walls(2),
    jobs1_seconds: Number(serial.wall.toFixed(1)),
    jobs2_seconds: Number(parallel.wall.toFixed(1)),
    jobs1_cpu_seconds: Number(serial.cpu.toFixed(1)),
    jobs2_cpu_seconds: Number(parallel.cpu.toFixed(1)),
    ratio: Number(ratio.toFixed(3)),
    serial_cpu_spread_ratio: Number(serialSpread.toFixed(3)),
    parallel_cpu_spread_ratio: Number(parallelSpread.toFixed(3)),
    met: ratio <= TARGET,
  };
}

const root = await projectCopy();
try {
  const cold = await scenarioSummary(root, "cold");
  const afterBase = await scenarioSummary(root, "after-base");
  const summary = {
    sweep: SWEEP,
    config: "configs/smoke.yaml",
    order: ORDER,
    target: TARGET,
    cold,
    after_base: afterBase,
    cores: navigator.hardwareConcurrency,
    load_average: Deno.loadavg(),
  };
  await Deno.mkdir(join(REPO, "artifacts", "bench"), { recursive: true });
  await writeFileAtomic(OUT, JSON.stringify(summary) + "\n");
} finally {
  await Deno.remove(root, { recursive: true });
}
