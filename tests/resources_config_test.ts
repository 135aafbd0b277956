/**
 * Stage resources and the executor block in configs: the kind's defaults, a config's
 * `resources:` and `--set stages.NAME.resources.KEY=…` on top, errors naming file, line and key;
 * none of it in the config digest (so never in a cache key). And the weighted semaphore that
 * makes local `--jobs` count cores.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadPipeline, type Pipeline } from "../pipeline/config/config.ts";
import { Semaphore } from "../pipeline/scheduler/dag.ts";

const stagesRoot = fileURLToPath(new URL("./fixtures/stages", import.meta.url));

async function load(text: string, sets: string[] = []): Promise<{ p: Pipeline; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "resources_test_" });
  const file = join(dir, "p.yaml");
  await Deno.writeTextFile(file, text);
  return { p: await loadPipeline(file, { sets, stagesRoot }), file };
}

async function rejectsWith(text: string, sets: string[], want: RegExp): Promise<void> {
  const err = await load(text, sets).then(
    () => assert.fail("loaded; expected a ConfigError"),
    (e) => e,
  );
  assert.ok(err instanceof ConfigError, String(err));
  assert.match(err.message, want);
}

const FLAKY = "stages:\n  f:\n    uses: eng_flaky\n    with: { value: 1 }\n";

Deno.test("resources: a stage gets its kind's defaults, overridden key by key by the config and --set", async () => {
  const plain = (await load(FLAKY)).p.stages[0].resources;
  assert.deepEqual(plain, { cpus: 1, memMb: 200, timeSeconds: 300 });
  const text = FLAKY +
    "    resources: { cpus: 2, time: 20m, partition: short, extra: --qos=low }\n";
  const set = (await load(text, ["stages.f.resources.mem=1.5G"])).p.stages[0].resources;
  assert.deepEqual(set, {
    cpus: 2,
    memMb: 1536,
    timeSeconds: 1200,
    partition: "short",
    extra: ["--qos=low"],
  });
});

Deno.test("resources: neither they nor the executor block change the config digest", async () => {
  const plain = (await load(FLAKY)).p;
  const other = (await load(
    "executor: { name: slurm, poll: { min: 0.1, max: 2 }, account: lab }\n" + FLAKY +
      "    resources: { cpus: 2, mem: 8G }\n",
  )).p;
  assert.equal(other.digest, plain.digest);
  assert.deepEqual(other.executor, {
    name: "slurm",
    poll: { minIntervalMs: 100, maxIntervalMs: 2000 },
    defaults: { account: "lab" },
  });
});

Deno.test("resources: a bad value is an error naming the file, line and key", async () => {
  await rejectsWith(
    FLAKY + "    resources:\n      cpus: 2\n      mem: 4Q\n",
    [],
    /p\.yaml:7: stages\.f\.resources\.mem: "4Q" is not a memory size; write e\.g\. 4G/,
  );
  await rejectsWith(
    FLAKY + "    resources: { cpu: 2 }\n",
    [],
    /p\.yaml:5: stages\.f\.resources\.cpu: unknown resource "cpu"; .*did you mean "cpus"/,
  );
  await rejectsWith(
    FLAKY,
    ["stages.f.resources.time=soon"],
    /--set stages\.f\.resources\.time=soon .*stages\.f\.resources\.time: "soon" is not a duration/,
  );
  await rejectsWith(
    FLAKY + "    resources: 4\n",
    [],
    /p\.yaml:5: stages\.f\.resources: found 4; expected a map/,
  );
});

Deno.test("executor block: a bad name or poll is an error naming the file, line and key", async () => {
  await rejectsWith(
    "executor:\n  name: pbs\n" + FLAKY,
    [],
    /p\.yaml:2: executor\.name: found "pbs"; expected one of: local, slurm/,
  );
  await rejectsWith(
    "executor:\n  poll: { min: 0 }\n" + FLAKY,
    [],
    /p\.yaml:2: executor\.poll\.min: found 0; expected seconds > 0/,
  );
});

Deno.test("semaphore: a weighted task holds its weight; one heavier than the capacity runs alone", async () => {
  const cores = new Semaphore(2);
  let busy = 0;
  let peak = 0;
  const order: string[] = [];
  const task = (name: string, weight: number) =>
    cores.with(async () => {
      busy += Math.min(weight, 2);
      peak = Math.max(peak, busy);
      order.push(`+${name}`);
      await new Promise((r) => setTimeout(r, 10));
      order.push(`-${name}`);
      busy -= Math.min(weight, 2);
    }, weight);
  await Promise.all([task("a", 1), task("big", 2), task("b", 1), task("huge", 8)]);
  assert.equal(peak, 2);
  // FIFO: b waits behind big although a single core is free while a runs.
  assert.deepEqual(order, ["+a", "-a", "+big", "-big", "+b", "-b", "+huge", "-huge"]);
});
