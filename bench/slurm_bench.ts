/**
 * Slurm benchmark: the smoke config run with every stage recomputed (`--force`), once with the
 * local executor and once through Slurm, in the same bench run on the same machine (the
 * one-node cluster of `ci/slurm/start.sh`). Reports each stage's wall seconds both ways and the
 * per-stage overhead of going through Slurm (submit, queue, job start, poll, log tail; target
 * ≤ 1.5 s per stage). Runs as experiments, so the committed lock files are not touched. On a
 * shared 2-core machine the training stages vary by seconds from run to run, so the overhead is
 * also measured where nothing else varies: the six trivial stages of the engine tests, forced,
 * both ways (best of 3). Writes `artifacts/bench/slurm.json`; skips (writes why) when no
 * controller answers.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { SIX_STAGES, TestProject } from "../tests/fixtures/engine/project.ts";
import { writeFileAtomic } from "../common/atomic_write.ts";
import type { RunReport } from "../pipeline/rebuilder/report.ts";
import { controllerAnswers } from "../pipeline/scheduler/slurm/mod.ts";

const TARGET_SECONDS = 1.5;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = fileURLToPath(new URL("../artifacts/bench/slurm.json", import.meta.url));

/** Runs the smoke config with `executor`, every stage forced; the report and the wall time. */
async function forcedRun(executor: string): Promise<{ report: RunReport; seconds: number }> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${ROOT}deno.json`,
      `${ROOT}pipeline/cli/main.ts`,
      ...["exp", "run", `bench-${executor}`, "configs/smoke.yaml", "--force", "--json"],
      ...["--executor", executor],
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  if (out.code !== 0) {
    throw new Error(`smoke via ${executor} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return { report: JSON.parse(new TextDecoder().decode(out.stdout)), seconds };
}

/** Best-of-3 wall seconds of the six fixture stages, all forced, with `executor`. */
async function sixStages(executor: string): Promise<number> {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const r = await p.cli("run", "configs/six.yaml", "--force", "--executor", executor);
      if (r.code !== 0) throw new Error(`six stages via ${executor} failed:\n${r.stderr}`);
      best = Math.min(best, (performance.now() - start) / 1000);
    }
    return best;
  } finally {
    await p.dispose();
  }
}

await Deno.mkdir(dirname(OUT), { recursive: true });
if (!(await controllerAnswers())) {
  const why = "no Slurm controller answers; start one with ci/slurm/start.sh (as root)";
  console.log(`slurm bench: skipped: ${why}`);
  await writeFileAtomic(OUT, JSON.stringify({ skipped: why }) + "\n");
  Deno.exit(0);
}

// Local first: it also fills the cache the inputs of the Slurm run are materialised from.
const local = await forcedRun("local");
const slurm = await forcedRun("slurm");
const seconds = (r: RunReport) => new Map(r.stages.map((s) => [s.stage, s.seconds ?? 0]));
const [l, s] = [seconds(local.report), seconds(slurm.report)];
const stages = [...l.keys()].map((stage) => ({
  stage,
  localSeconds: +l.get(stage)!.toFixed(2),
  slurmSeconds: +s.get(stage)!.toFixed(2),
  overheadSeconds: +(s.get(stage)! - l.get(stage)!).toFixed(2),
}));
for (const x of stages) {
  console.log(
    `${x.stage.padEnd(12)} local ${x.localSeconds.toFixed(2)} s  slurm ${
      x.slurmSeconds.toFixed(2)
    } s  overhead ${x.overheadSeconds.toFixed(2)} s`,
  );
}
const perStage = (slurm.seconds - local.seconds) / stages.length;
const meanStage = stages.reduce((a, x) => a + x.overheadSeconds, 0) / stages.length;
console.log(
  `whole run: local ${local.seconds.toFixed(1)} s, slurm ${slurm.seconds.toFixed(1)} s; ` +
    `overhead per stage ${perStage.toFixed(2)} s (whole run), ${
      meanStage.toFixed(2)
    } s (mean of stages); target ≤ ${TARGET_SECONDS} s`,
);
const six = { local: await sixStages("local"), slurm: await sixStages("slurm") };
const sixPerStage = (six.slurm - six.local) / 6;
console.log(
  `six trivial stages (4 waves of the DAG), forced, best of 3: local ${six.local.toFixed(2)} s, ` +
    `slurm ${six.slurm.toFixed(2)} s; overhead per stage ${sixPerStage.toFixed(2)} s`,
);
await writeFileAtomic(
  OUT,
  JSON.stringify({
    trivialStages: {
      localSeconds: +six.local.toFixed(2),
      slurmSeconds: +six.slurm.toFixed(2),
      overheadPerStageSeconds: +sixPerStage.toFixed(2),
    },
    stages: stages.length,
    localSeconds: +local.seconds.toFixed(2),
    slurmSeconds: +slurm.seconds.toFixed(2),
    overheadPerStageSeconds: +perStage.toFixed(2),
    meanStageOverheadSeconds: +meanStage.toFixed(2),
    targetSeconds: TARGET_SECONDS,
    perStage: stages,
    note: "2-core machine shared with other jobs; one-node cluster on the same machine",
  }) + "\n",
);
