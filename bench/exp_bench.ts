/**
 * Experiments benchmark: a 4-variant sweep of LLGAE's `components` on the smoke data
 * (configs/smoke.yaml), from an empty cache, three times with `--jobs 1` and three times with
 * `--jobs 2`, interleaved (see {@link ORDER}), in the same run on the same machine; reports every
 * wall time, each side's median and the ratio of the medians (target: `--jobs 2` at most 0.65 ×
 * the serial time on 2 cores). Each is one whole `exp run --sweep` command on a
 * throw-away copy of the project (its own engine and `artifacts/`), run as `bin/pipeline` runs
 * it. Also reports each run's CPU seconds (the engine and all its stage processes) and the ratio
 * the serial run's CPU time would give spread over every core with none idle: not a strict bound,
 * since the two runs do not spend the same CPU (V8's helper threads work more while a core is
 * free). Writes `artifacts/bench/exp.json`.
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

/** Wall and CPU seconds of the sweep with `jobs`, from an empty cache. */
async function sweepSeconds(root: string, jobs: number): Promise<{ wall: number; cpu: number }> {
  await Deno.remove(join(root, "artifacts"), { recursive: true }).catch(() => {});
  const args = [
    "run",
    "-A",
    `--config=${join(root, "deno.json")}`,
    ...nodeModulesFlags(), // as for the project it copies (same node_modules/, same lock times)
    join(root, "pipeline", "cli", "main.ts"),
    "--root",
    root,
    "exp",
    "run",
    "k",
    "configs/smoke.yaml",
    "--sweep",
    SWEEP,
    "--jobs",
    String(jobs),
  ];
  const t0 = performance.now(), cpu0 = childrenCpuSeconds();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const seconds = (performance.now() - t0) / 1000, cpu = childrenCpuSeconds() - cpu0;
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`sweep --jobs ${jobs} failed:\n${text}${new TextDecoder().decode(out.stderr)}`);
  }
  console.log(
    `--jobs ${jobs}: ${seconds.toFixed(1)} s, ${cpu.toFixed(1)} s CPU (${
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

const root = await projectCopy();
try {
  const runs: Record<number, { wall: number; cpu: number }[]> = { 1: [], 2: [] };
  for (const jobs of ORDER) runs[jobs].push(await sweepSeconds(root, jobs));
  const side = (jobs: number) => ({
    wall: median(runs[jobs].map((r) => r.wall)),
    cpu: median(runs[jobs].map((r) => r.cpu)),
  });
  const serial = side(1), parallel = side(2);
  const ratio = parallel.wall / serial.wall;
  // The serial sweep's CPU spread over every core, none idle.
  const spread = serial.cpu / navigator.hardwareConcurrency / serial.wall;
  const walls = (jobs: number) => runs[jobs].map((r) => Number(r.wall.toFixed(1)));
  const summary = {
    sweep: SWEEP,
    config: "configs/smoke.yaml",
    order: ORDER,
    jobs1_runs_seconds: walls(1),
    jobs2_runs_seconds: walls(2),
    jobs1_seconds: Number(serial.wall.toFixed(1)),
    jobs2_seconds: Number(parallel.wall.toFixed(1)),
    jobs1_cpu_seconds: Number(serial.cpu.toFixed(1)),
    jobs2_cpu_seconds: Number(parallel.cpu.toFixed(1)),
    ratio: Number(ratio.toFixed(3)),
    serial_cpu_spread_ratio: Number(spread.toFixed(3)),
    target: TARGET,
    met: ratio <= TARGET,
    cores: navigator.hardwareConcurrency,
    load_average: Deno.loadavg(),
  };
  console.log(
    `exp sweep of 4 (medians of ${runs[1].length} runs each, ABBA order): --jobs 1 ${
      serial.wall.toFixed(1)
    } s (${walls(1).join(", ")}), --jobs 2 ${parallel.wall.toFixed(1)} s (${
      walls(2).join(", ")
    }), ratio ${ratio.toFixed(3)} (target ≤ ${TARGET}: ${
      summary.met ? "met" : "NOT met"
    }; the serial run's CPU time spread over every core would give ${spread.toFixed(3)})`,
  );
  await Deno.mkdir(join(REPO, "artifacts", "bench"), { recursive: true });
  await writeFileAtomic(OUT, JSON.stringify(summary) + "\n");
} finally {
  await Deno.remove(root, { recursive: true });
}
