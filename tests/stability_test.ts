import { ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { kind } from "../stages/train/kind.ts";
import { run } from "../stages/train/run.ts";
import { stageContext } from "./fixtures/report/context.ts";
import { syntheticData } from "./fixtures/train_data.ts";

const betaIssue = (raw: Record<string, unknown>) => {
  const result = kind.params.safeParse({ components: 11, ...raw });
  return result.success ? undefined : result.error.issues.find((i) => i.path[0] === "beta");
};

Deno.test("train params: a beta whose encoder steps blow up from the init is rejected, naming the range", () => {
  const data = betaIssue({ init: "data", beta: 10 });
  ok(data, "beta 10 with init data is an error on beta");
  ok(data.message.includes("init data scales W so that beta·WᵀW = I"), data.message);
  ok(data.message.includes("use a beta below 4.00"), data.message);
  const random = betaIssue({ init: "random", beta: 5 });
  ok(random?.message.includes("1/(3·E·K) = 0.00152 (E 20, K 11)"), random?.message);
  ok(random?.message.includes("use a beta below 4.99"), random?.message);
  for (
    const fine of [
      {},
      { init: "data", beta: 3 },
      { init: "data", beta: 1000, latent_decay: 0 }, // βWᵀW = I: the steps are exact at once
      { init: "random", beta: 4 },
      { init: "random", beta: 1000, latent_decay: 0 }, // 1000/660: a 0.5-fold step
    ]
  ) strictEqual(betaIssue(fine), undefined, JSON.stringify(fine));
});

Deno.test("pipeline: beta 10 on the smoke config is refused before anything runs, naming stages.<name>.with.beta", async () => {
  const out = await new Deno.Command("bin/pipeline", {
    args: ["run", "-n", "configs/smoke.yaml", "-S", "stages.train_llgae.with.beta=10"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  strictEqual(out.code, 2, text);
  ok(text.includes("stages.train_llgae.with.beta"), text);
  ok(text.includes("found 10; the encoder's steps blow up from the start"), text);
});

const data = await syntheticData();
const base = { components: 3, latent_dim: 4, batch_size: 50, epochs: 2, seed: 5, backend: "wasm" };

async function train(raw: Record<string, unknown>, override: Record<string, unknown> = {}) {
  const inputs = { data: [{ stage: "shuffle", dir: data }] };
  const ctx = await stageContext(kind, { ...base, ...raw }, inputs, undefined, "train_x");
  ctx.params = { ...ctx.params, ...override };
  return ctx;
}

const noModel = async (outDir: string) =>
  strictEqual(await Deno.stat(join(outDir, "model.safetensors")).catch(() => "none"), "none");

Deno.test("train: a model that ends worse than the mean image fails, naming beta and lr, and is not written", async () => {
  // β = 3 passes the params check (3-fold steps at the init) but 2 epochs do not recover.
  const ctx = await train({ init: "data", beta: 3 });
  await rejects(
    run(ctx),
    /test MSE \d+(\.\d+)? of the trained model is worse than \d+\.\d\d, what the mean training image or the initial centres predict: training diverged, so the model is not kept; lower stages\.train_x\.with\.beta \(now 3\) or stages\.train_x\.with\.lr \(now 0\.001\)/,
  );
  await noModel(ctx.outDir);
  await ctx.cleanup();
});

Deno.test("train: a test MSE 100× the reference stops training after that epoch", async () => {
  // β = 5 would be refused by the params check; the run-time guard catches what it cannot see.
  const ctx = await train({ init: "data", epochs: 50 }, { beta: 5 });
  await rejects(
    run(ctx),
    /after epoch 1 is worse than 100× .*lower stages\.train_x\.with\.beta \(now 5\)/,
  );
  strictEqual(ctx.logs.filter((l) => l.startsWith("epoch ")).length, 0, ctx.logs.join("\n"));
  await noModel(ctx.outDir);
  await ctx.cleanup();
});
