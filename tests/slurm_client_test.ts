/**
 * The Slurm client against a real controller: the one-node cluster of `ci/slurm/start.sh` (or
 * whatever cluster `sinfo` reaches). Without a controller the tests skip, except under `CI=true`,
 * where they fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cancelRun,
  ControllerUnavailableError,
  type JobRequest,
  parseResources,
  RunPoller,
  SubmitError,
  submitJob,
} from "../pipeline/scheduler/slurm/mod.ts";
import { slurmCommand } from "../pipeline/scheduler/slurm/command.ts";
import { skipWithoutSlurm } from "./fixtures/slurm.ts";

const ignore = await skipWithoutSlurm("slurm_client_test");
const clusterDir = Deno.env.get("PIPELINE_SLURM_DIR") ?? "/var/tmp/pipeline-slurm";

let runs = 0;
/** A fresh run id and work dir per test, so no two tests see each other's jobs. */
async function freshRun(): Promise<
  { runId: string; dir: string; job(c: string, r?: object): JobRequest }
> {
  const runId = `t${Date.now().toString(36)}${runs++}`;
  const dir = await Deno.makeTempDir({ dir: Deno.cwd(), prefix: ".slurm-test-" });
  return {
    runId,
    dir,
    job: (script: string, resources: object = {}) => ({
      runId,
      command: ["/bin/sh", "-c", script],
      chdir: dir,
      logPath: join(dir, "logs", `${runs++}.log`),
      resources: parseResources({ time: "5m", mem: "100M", ...resources }),
      label: "stage",
    }),
  };
}

/** Jobs of a run that squeue lists as pending or running. */
async function liveJobs(runId: string): Promise<string> {
  const r = await slurmCommand("squeue", [
    `--name=pipeline-${runId}`,
    "--states=PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED",
    "-h",
    "-o",
    "%i %T",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test(
  { name: "slurm: a job that writes a file completes and its output exists", ignore },
  async () => {
    const run = await freshRun();
    try {
      const poller = new RunPoller({ runId: run.runId });
      const job = await submitJob(run.job("echo made > out.txt; echo to-the-log"));
      const outcome = await poller.watch(job);
      assert.equal(outcome.ok, true, outcome.message ?? "");
      assert.equal(outcome.state, "COMPLETED");
      assert.equal(await Deno.readTextFile(join(run.dir, "out.txt")), "made\n");
      assert.match(
        await Deno.readTextFile(job.logPath),
        /^slurm job \d+ stage on .* started .*\nto-the-log\n$/,
      );
    } finally {
      await Deno.remove(run.dir, { recursive: true });
    }
  },
);

Deno.test({
  name: "slurm: a job that exits 3 reports FAILED with its exit code and log path",
  ignore,
}, async () => {
  const run = await freshRun();
  try {
    const job = await submitJob(run.job("echo about to fail >&2; exit 3"));
    const outcome = await new RunPoller({ runId: run.runId }).watch(job);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.state, "FAILED");
    assert.equal(outcome.exitCode, "3:0");
    assert.equal(
      outcome.message,
      `stage (slurm job ${job.jobId}) ended FAILED (reason NonZeroExitCode, exit code 3:0); log: ${job.logPath}`,
    );
    assert.match(await Deno.readTextFile(job.logPath), /about to fail/);
  } finally {
    await Deno.remove(run.dir, { recursive: true });
  }
});

Deno.test(
  { name: "slurm: a request no node can meet fails fast with Slurm's reason", ignore },
  async () => {
    const run = await freshRun();
    try {
      const poller = new RunPoller({ runId: run.runId });
      const started = Date.now();
      // More CPUs than the node has: sbatch accepts it, the job pends for PartitionConfig forever.
      const cpus = await poller.watch(await submitJob(run.job("true", { cpus: 512 })));
      assert.equal(cpus.state, "PENDING");
      assert.equal(cpus.reason, "PartitionConfig");
      assert.match(cpus.message!, /can never start: pending for reason PartitionConfig; log: /);
      // Longer than the partition's MaxTime (1 day on the start.sh cluster).
      const time = await poller.watch(await submitJob(run.job("true", { time: "3d" })));
      // Slurm first says PartitionConfig, and PartitionTimeLimit once the scheduler has looked.
      assert.match(time.reason, /^Partition(Config|TimeLimit)$/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      assert.equal(await liveJobs(run.runId), "", "a job that can never start is cancelled");
      // More memory than any node: sbatch itself refuses.
      await assert.rejects(
        submitJob(run.job("true", { mem: "100T" })),
        (e: Error) =>
          e instanceof SubmitError &&
          /sbatch refused stage \(.*--mem=104857600M.*\): Memory specification can not be satisfied/
            .test(
              e.message,
            ),
      );
    } finally {
      await Deno.remove(run.dir, { recursive: true });
    }
  },
);

Deno.test({ name: "slurm: aborting the run scancels all its jobs", ignore }, async () => {
  const run = await freshRun();
  try {
    const abort = new AbortController();
    const poller = new RunPoller({ runId: run.runId, signal: abort.signal });
    const jobs = await Promise.all([1, 2, 3].map(() => submitJob(run.job("sleep 300"))));
    const outcomes = Promise.all(jobs.map((j) => poller.watch(j)));
    await new Promise((r) => setTimeout(r, 1000));
    assert.notEqual(
      await liveJobs(run.runId),
      "",
      "the jobs are queued or running before the abort",
    );
    abort.abort();
    for (const o of await outcomes) {
      assert.equal(o.state, "CANCELLED");
      assert.match(o.message!, /ended CANCELLED/);
    }
    assert.equal(await liveJobs(run.runId), "");
  } finally {
    await cancelRun({ runId: run.runId });
    await Deno.remove(run.dir, { recursive: true });
  }
});

Deno.test(
  { name: "slurm: one squeue call per poll follows all of a run's jobs", ignore },
  async () => {
    const run = await freshRun();
    // A squeue on PATH that records each call and forwards it to the real one.
    const real = (await slurmCommand("sh", ["-c", "command -v squeue"])).stdout.trim();
    const shim = join(run.dir, "bin");
    await Deno.mkdir(shim);
    await Deno.writeTextFile(
      join(shim, "squeue"),
      `#!/bin/sh\necho "$*" >> ${join(run.dir, "squeue.calls")}\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    try {
      const env = { PATH: `${shim}:${Deno.env.get("PATH")}` };
      const poller = new RunPoller({
        runId: run.runId,
        env,
        minIntervalMs: 300,
        maxIntervalMs: 300,
      });
      const jobs = await Promise.all(
        [1, 2, 3, 4].map((i) => submitJob(run.job(`sleep 1; echo ${i}`))),
      );
      const outcomes = await Promise.all(jobs.map((j) => poller.watch(j)));
      assert.deepEqual(outcomes.map((o) => o.state), [
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
      ]);
      const calls = (await Deno.readTextFile(join(run.dir, "squeue.calls"))).trim().split("\n");
      assert.equal(calls.length, poller.squeueCalls);
      for (const call of calls) {
        assert.equal(
          call,
          `--name=pipeline-${run.runId} --states=all --noheader --format=%i|%T|%r`,
        );
      }
    } finally {
      await Deno.remove(run.dir, { recursive: true });
    }
  },
);

Deno.test({
  name: "slurm: a controller that never answers fails the watch after the budget",
  ignore,
}, async () => {
  const run = await freshRun();
  try {
    // The same cluster's configuration, with the controller on a port nothing listens on.
    const conf = (await slurmCommand("scontrol", ["show", "config"])).stdout;
    const file = /^SLURM_CONF\s*=\s*(\S+)/m.exec(conf)![1];
    const dead = join(run.dir, "slurm.conf");
    await Deno.writeTextFile(
      dead,
      (await Deno.readTextFile(file)).replace(/^SlurmctldPort=.*$/m, "") + "SlurmctldPort=9\n",
    );
    const poller = new RunPoller({
      runId: run.runId,
      env: { SLURM_CONF: dead },
      // squeue itself retries a refused connection for ~9 s; cut each call short.
      commandTimeoutMs: 1000,
      unresponsiveBudgetMs: 2500,
      maxIntervalMs: 500,
    });
    const started = Date.now();
    await assert.rejects(
      poller.watch({
        jobId: "1",
        jobName: `pipeline-${run.runId}`,
        logPath: join(run.dir, "x.log"),
      }),
      (e: Error) =>
        e instanceof ControllerUnavailableError &&
        /did not answer for \d+ s \(budget 2\.5 s\): squeue exited -1: squeue did not answer within 1000 ms/
          .test(e.message),
    );
    assert.ok(Date.now() - started < 10_000);
    assert.ok(poller.squeueCalls >= 2, "it retried before giving up");
  } finally {
    await Deno.remove(run.dir, { recursive: true });
  }
});

Deno.test({
  name: "slurm: a job survives a controller restart while it runs",
  // Restarting the controller needs the cluster of ci/slurm/start.sh.
  ignore: ignore ||
    !(await Deno.stat(join(clusterDir, "slurmctld.pid")).then(() => true, () => false)),
}, async () => {
  const run = await freshRun();
  try {
    const poller = new RunPoller({ runId: run.runId, maxIntervalMs: 1000 });
    const job = await submitJob(run.job("sleep 6; echo done > out.txt"));
    const outcome = poller.watch(job);
    await new Promise((r) => setTimeout(r, 1500));
    const pid = Number(await Deno.readTextFile(join(clusterDir, "slurmctld.pid")));
    Deno.kill(pid, "SIGTERM");
    while (await slurmCommand("kill", ["-0", String(pid)]).then((r) => r.code === 0)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2000));
    const restart = await slurmCommand("slurmctld", ["-f", join(clusterDir, "slurm.conf")]);
    assert.equal(restart.code, 0, restart.stderr);
    const o = await outcome;
    assert.equal(o.state, "COMPLETED", o.message ?? "");
    assert.equal(await Deno.readTextFile(join(run.dir, "out.txt")), "done\n");
  } finally {
    await Deno.remove(run.dir, { recursive: true });
  }
});

Deno.test({ name: "slurm: a job over its time limit reports TIMEOUT", ignore }, async () => {
  const run = await freshRun();
  try {
    const started = Date.now();
    const job = await submitJob(run.job("echo sleeping; sleep 300", { time: "1m" }));
    const outcome = await new RunPoller({ runId: run.runId }).watch(job);
    assert.equal(outcome.state, "TIMEOUT");
    assert.match(
      outcome.message!,
      new RegExp(`ended TIMEOUT \\(reason TimeLimit.*; log: ${job.logPath}$`),
    );
    assert.match(await Deno.readTextFile(job.logPath), /DUE TO TIME LIMIT/);
    console.log(`TIMEOUT after ${((Date.now() - started) / 1000).toFixed(1)} s (limit 60 s)`);
  } finally {
    await Deno.remove(run.dir, { recursive: true });
  }
});
