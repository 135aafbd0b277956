/**
 * The `slurm` executor end to end: the real CLI on throw-away projects of fixture kinds (and the
 * smoke config on the real data) against the real controller of `ci/slurm/start.sh`. Without a
 * controller the tests skip, except under `CI=true`, where they fail. The time-limit (TIMEOUT)
 * case is `tests/slurm_client_test.ts`'s: the executor passes the poller's outcome on as is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPipeline, type Pipeline } from "../pipeline/config/config.ts";
import { slurmCommand } from "../pipeline/scheduler/slurm/command.ts";
import { skipWithoutSlurm } from "./fixtures/slurm.ts";
import { type LockFile, readLock } from "../pipeline/store/lockfile.ts";
import { collect, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const ignore = await skipWithoutSlurm("slurm_executor_test");

/** Jobs whose working directory is `root` and that squeue lists as not yet finished. */
async function liveJobsIn(root: string): Promise<string[]> {
  const r = await slurmCommand("squeue", [
    "--states=PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED",
    "--noheader",
    "--format=%i|%T|%Z",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l.split("|")[2] === root);
}

/** Each stage's key and output digests, from a lock file. */
function keysAndDigests(lock: LockFile | undefined): Record<string, unknown> {
  assert.ok(lock, "the run wrote no lock file");
  return Object.fromEntries(
    Object.entries(lock.stages).map(([name, s]) => [name, { key: s.key, outputs: s.outputs }]),
  );
}

Deno.test({
  name: "slurm executor: the six-stage pipeline has the same keys and output digests as locally",
  ignore,
}, async () => {
  // One project (keys name the project's own paths): locally, then every stage again on Slurm.
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const l = await p.cli("run", "configs/six.yaml", "--executor", "local");
    assert.equal(l.code, 0, l.stderr);
    const local = keysAndDigests(await readLock(p.path("configs/six.lock.json")));
    await Deno.remove(p.path("configs/six.lock.json"));
    const s = await p.cli("run", "configs/six.yaml", "--executor", "slurm", "--force");
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.summary, { ran: 6, cached: 0, failed: 0 });
    assert.match(s.stderr, /a \| submitted as slurm job \d+ \(pipeline-/);
    assert.deepEqual(keysAndDigests(await readLock(p.path("configs/six.lock.json"))), local);
    // The job's stage log lines reach the view, as locally.
    assert.match(s.stderr, /a \| starting fresh/);
    // The results are the run's: a run through either executor recomputes nothing.
    const again = await p.cli("run", "configs/six.yaml", "--executor", "local");
    assert.deepEqual(again.summary, { ran: 0, cached: 6, failed: 0 });
  } finally {
    await p.dispose();
  }
});

Deno.test({
  name: "slurm executor: a failing stage reports FAILED with the path of its job log",
  ignore,
}, async () => {
  const p = await TestProject.create({
    "bad.yaml": "stages:\n  a:\n    uses: eng_source\n    with: { value: 1, fail: true }\n",
  });
  try {
    const r = await p.cli("run", "configs/bad.yaml", "--executor", "slurm");
    assert.equal(r.code, 1, r.stderr);
    const m =
      /failed: a: a \(slurm job \d+\) ended FAILED \(reason NonZeroExitCode, exit code 1:0\); log: (\S+)/
        .exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.match(m[1], /artifacts\/logs\/bad\/a\.log$/);
    assert.match(r.stderr, /eng_source a was asked to fail/);
    assert.match(await Deno.readTextFile(m[1]), /eng_source a was asked to fail/);
  } finally {
    await p.dispose();
  }
});

Deno.test({
  name: "slurm executor: a request no node can meet fails at once with Slurm's reason",
  ignore,
}, async () => {
  const p = await TestProject.create({
    "big.yaml": "stages:\n" +
      "  cores:\n    uses: eng_source\n    with: { value: 1 }\n    resources: { cpus: 512 }\n" +
      "  memory:\n    uses: eng_source\n    with: { value: 2 }\n    resources: { mem: 100T }\n",
  });
  try {
    const r = await p.cli("run", "configs/big.yaml", "--executor", "slurm");
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /failed: cores: cores \(slurm job \d+\) can never start: pending for reason PartitionConfig/,
    );
    assert.match(r.stderr, /failed: memory: sbatch refused memory \(.*--mem=104857600M.*\): /);
    assert.deepEqual(await liveJobsIn(p.root), []);
  } finally {
    await p.dispose();
  }
});

Deno.test({
  name: "slurm executor: Ctrl-C cancels every job of the run and exits 130",
  ignore,
}, async () => {
  const slow = (v: number) => `    uses: eng_source\n    with: { value: ${v}, sleep_ms: 120000 }\n`;
  const p = await TestProject.create({
    "slow.yaml": `stages:\n  a:\n${slow(1)}  b:\n${slow(2)}`,
  });
  try {
    const child = p.spawn(["run", "configs/slow.yaml", "--executor", "slurm"]);
    const output = child.output();
    for (let i = 0; i < 200 && (await liveJobsIn(p.root)).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await liveJobsIn(p.root)).length, 2, "both jobs were never queued");
    child.kill("SIGINT");
    const r = collect(await output);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted: stopping running stages/);
    assert.deepEqual(await liveJobsIn(p.root), []);
  } finally {
    await p.dispose();
  }
});

Deno.test({
  name: "--retries 1 reruns a stage that fails once, through Slurm and locally",
  ignore,
}, async () => {
  for (const executor of ["slurm", "local"]) {
    const p = await TestProject.create({
      "flaky.yaml": "stages:\n  f:\n    uses: eng_flaky\n    with: { value: 4 }\n",
    });
    try {
      const r = await p.cli("run", "configs/flaky.yaml", "--executor", executor, "--retries", "1");
      assert.equal(r.code, 0, `${executor}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /warning: f: attempt 1 of 2 failed \(.*\); retrying/,
        `${executor}: ${r.stderr}`,
      );
      assert.match(r.stderr, /f \| attempt 2 succeeds/);
      assert.equal(await p.read("artifacts/out/flaky/f/data.txt"), "4\n");
    } finally {
      await p.dispose();
    }
  }
});

/**
 * Each stage's key and its output digests other than the kind's volatile ones (timings). The
 * report is left out: it quotes the training wall times, which differ on every run.
 */
function stableResults(lock: LockFile, pipeline: Pipeline): Record<string, unknown> {
  return Object.fromEntries(
    pipeline.stages.filter((s) => s.uses !== "report").map((stage) => {
      const volatile = stage.kind.volatileOutputs?.(stage.params) ?? [];
      const { key, outputs } = lock.stages[stage.name];
      const stable = Object.entries(outputs).filter(([file]) => !volatile.includes(file));
      return [stage.name, { key, outputs: Object.fromEntries(stable) }];
    }),
  );
}

Deno.test({
  name: "slurm executor: the smoke config on the real data gives the same metrics as locally",
  ignore,
}, async () => {
  const repo = fileURLToPath(new URL("../", import.meta.url));
  const cli = async (...args: string[]) =>
    collect(
      await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `--config=${repo}deno.json`, `${repo}pipeline/cli/main.ts`, ...args],
        cwd: repo,
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).output(),
    );
  // As experiments, so the committed configs/smoke.lock.json is left alone; an experiment needs
  // an override, so each restates smoke's own epochs (the cache keys stay smoke's). Locally first
  // (from the cache when an earlier run computed it), then every stage again through Slurm.
  const same = ["--set", "stages.train_llgae.with.epochs=2"];
  const local = await cli("exp", "run", "smoke-local", "configs/smoke.yaml", ...same);
  assert.equal(local.code, 0, local.stderr);
  const slurm = await cli(
    ...["exp", "run", "smoke-slurm", "configs/smoke.yaml", ...same, "--executor", "slurm"],
    "--force",
  );
  assert.equal(slurm.code, 0, slurm.stderr);
  const pipeline = await loadPipeline(join(repo, "configs", "smoke.yaml"));
  assert.equal(slurm.summary?.ran, pipeline.stages.length, slurm.stderr);
  const [l, s] = await Promise.all(
    ["smoke-local", "smoke-slurm"].map(async (name) => {
      const lock = await readLock(join(repo, "artifacts", "experiments", `${name}.lock.json`));
      assert.ok(lock, `no lock for experiment ${name}`);
      return lock;
    }),
  );
  assert.ok(s.stages.evaluate.metrics, "evaluate recorded no metrics");
  assert.deepEqual(s.stages.evaluate.metrics, l.stages.evaluate.metrics);
  assert.deepEqual(stableResults(s, pipeline), stableResults(l, pipeline));
});

Deno.test({
  name:
    "slurm executor: a config's executor block picks it (progress shows); --executor on the command line wins",
  ignore,
}, async () => {
  const p = await TestProject.create({
    "blk.yaml": "executor: { name: slurm, poll: { min: 0.1 } }\n" +
      "stages:\n  a:\n    uses: eng_source\n    with: { value: 3, sleep_ms: 500 }\n",
  });
  try {
    const byConfig = await p.cli("run", "configs/blk.yaml", "--force");
    assert.equal(byConfig.code, 0, byConfig.stderr);
    assert.match(byConfig.stderr, /a \| submitted as slurm job \d+/);
    // Progress from the job's log reaches the view as it does from a local subprocess.
    assert.match(byConfig.stderr, /a: 10\/10 \(100%\) step 10\/10/);
    const byCli = await p.cli("run", "configs/blk.yaml", "--force", "--executor", "local");
    assert.equal(byCli.code, 0, byCli.stderr);
    assert.equal(byCli.summary?.ran, 1);
    assert.doesNotMatch(byCli.stderr, /slurm/);
  } finally {
    await p.dispose();
  }
});
