/**
 * Child process of `bench init`: runs the `train` stage once with the paper config's
 * `train_llgae` params on the shuffle output in `Deno.args[0]`, then prints one JSON line with
 * the process's peak resident memory (VmHWM, as the stage's own process would report it) and
 * the stage's logged timings.
 *
 * @module
 */
import { parse } from "yaml";
import { kind } from "../stages/train/kind.ts";
import { run } from "../stages/train/run.ts";
import { stageContext } from "../tests/fixtures/report/context.ts";

const config = parse(
  await Deno.readTextFile(new URL("../configs/paper.yaml", import.meta.url)),
  { merge: true },
);
const params = config.stages.train_llgae.with;
const ctx = await stageContext(kind, params, { data: [{ stage: "shuffle", dir: Deno.args[0] }] });
const began = performance.now();
const times: { message: string; at: number }[] = [];
ctx.log = (message) => times.push({ message, at: (performance.now() - began) / 1000 });
await run(ctx);
const seconds = (performance.now() - began) / 1000;
const status = Deno.readTextFileSync("/proc/self/status");
const kB = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1]);
console.log(JSON.stringify({ seconds, vm_hwm_mib: kB("VmHWM") / 1024, logs: times }));
await ctx.cleanup();
