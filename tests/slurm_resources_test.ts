import assert from "node:assert/strict";
import {
  batchScript,
  formatDuration,
  parseDuration,
  parseMemory,
  parseResources,
  ResourceError,
  sbatchArgs,
} from "../pipeline/scheduler/slurm/mod.ts";

Deno.test("slurm resources: durations in unit and clock forms become seconds", () => {
  const cases: [string | number, number][] = [
    ["20m", 1200],
    ["90s", 90],
    ["2h", 7200],
    ["1d", 86400],
    ["1h30m", 5400],
    ["1:00:00", 3600],
    ["20:00", 1200],
    ["2-00:00:00", 172800],
    ["1-12", 129600],
    [30, 1800],
    ["45", 2700],
  ];
  for (const [text, seconds] of cases) assert.equal(parseDuration(text), seconds, String(text));
  assert.equal(formatDuration(5400), "01:30:00");
  assert.equal(formatDuration(172830), "2-00:00:30");
});

Deno.test("slurm resources: memory sizes become whole megabytes", () => {
  assert.equal(parseMemory("4G"), 4096);
  assert.equal(parseMemory("512M"), 512);
  assert.equal(parseMemory("1.5G"), 1536);
  assert.equal(parseMemory("100K"), 1);
  assert.equal(parseMemory("2T"), 2097152);
  assert.equal(parseMemory(2048), 2048);
  assert.equal(parseMemory("8gb"), 8192);
});

Deno.test("slurm resources: a bad value is named with its key and how to write it", () => {
  const where = "configs/x.yaml: stages.train.resources";
  const bad: [object, RegExp][] = [
    [
      { mem: "4Q" },
      /^configs\/x\.yaml: stages\.train\.resources\.mem: "4Q" is not a memory size; write e\.g\. 4G/,
    ],
    [{ time: "1:75:00" }, /resources\.time: "1:75:00" is not a duration; write e\.g\. 20m/],
    [{ time: "soon" }, /resources\.time: "soon" is not a duration/],
    [{ cpus: 0 }, /resources\.cpus: "0" is not a whole number ≥ 1/],
    [{ cpus: "2.5" }, /resources\.cpus: "2\.5" is not a whole number/],
    [{ gpus: -1 }, /resources\.gpus: "-1" is not a whole number ≥ 0/],
    [{ partition: "gpu; rm" }, /resources\.partition: "gpu; rm" is not a Slurm name/],
    [{ extra: "--constraint='a100'" }, /resources\.extra: .* has quotes/],
    [{ extra: "qos=long" }, /resources\.extra: "qos=long" is not an sbatch option/],
    [{ memory: "4G" }, /resources: unknown key "memory"; known: cpus, mem, time/],
    [{ mem: ["4G"] }, /resources\.mem: expected a number or a string, got \["4G"\]/],
  ];
  for (const [raw, message] of bad) {
    assert.throws(
      () => parseResources(raw, where),
      (e: Error) => e instanceof ResourceError && message.test(e.message),
    );
  }
  assert.throws(() => parseResources("4G", where), /resources: expected a mapping/);
});

Deno.test("slurm resources: a job's sbatch options carry the run's name, log, dir and resources", () => {
  const job = {
    runId: "r1",
    command: ["deno", "run", "stage main.ts", "it's"],
    chdir: "/proj",
    logPath: "/proj/artifacts/logs/train.log",
    label: "train",
    resources: parseResources({
      cpus: 2,
      mem: "4G",
      time: "20m",
      gpus: 1,
      partition: "gpu",
      account: "lab",
      extra: "--qos=long  --constraint=a100|h100",
    }),
  };
  assert.deepEqual(sbatchArgs(job), [
    "--parsable",
    "--job-name=pipeline-r1",
    "--output=/proj/artifacts/logs/train.log",
    "--chdir=/proj",
    "--nodes=1",
    "--ntasks=1",
    "--comment=train",
    "--cpus-per-task=2",
    "--mem=4096M",
    "--time=00:20:00",
    "--gpus=1",
    "--partition=gpu",
    "--account=lab",
    "--qos=long",
    "--constraint=a100|h100",
  ]);
  assert.match(batchScript(job), /\nexec deno run 'stage main\.ts' 'it'\\''s'\n$/);
  assert.throws(() => sbatchArgs({ ...job, runId: "a b" }), /run id "a b": use letters, digits/);
});
