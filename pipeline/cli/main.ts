/**
 * The `pipeline` command (`deno task pipeline …`): one module per command under `commands/`.
 * Exit codes: 0 ok, 1 a stage failed or metrics drifted, 2 bad usage or config, 130 interrupted.
 *
 * @module
 */
import { Command } from "commander";
import { ConfigError } from "../config/config.ts";
import { UsageError } from "../config/usage_error.ts";
import { registerCheck } from "./commands/check.ts";
import { registerDag } from "./commands/dag.ts";
import { registerDiff } from "./commands/diff.ts";
import { registerExp } from "./commands/exp.ts";
import { registerGc } from "./commands/gc.ts";
import { registerPull } from "./commands/pull.ts";
import { registerPush } from "./commands/push.ts";
import { registerRun } from "./commands/run.ts";
import { registerStatus } from "./commands/status.ts";
import { registerVerify } from "./commands/verify.ts";

/** The program with every command. */
export function program(): Command {
  const root = new Command("pipeline")
    .description("Run YAML-declared stage pipelines with a content-addressed cache.")
    .option("--root <dir>", "project root (default: this checkout, or $PIPELINE_ROOT)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      `\nExamples:\n  deno task pipeline run configs/smoke.yaml\n  deno task pipeline status\n` +
        `  deno task pipeline exp run k20 --set stages.train_llgae.with.components=20\n` +
        `  deno task pipeline metrics diff configs/paper.yaml k20`,
    );

  for (
    const register of [
      registerRun,
      registerStatus,
      registerDag,
      registerDiff,
      registerExp,
      registerGc,
      registerCheck,
      registerPush,
      registerPull,
      registerVerify,
    ]
  ) register(root);
  return root;
}

if (import.meta.main) {
  try {
    await program().parseAsync(Deno.args, { from: "user" });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      Deno.exitCode = 2;
    } else {
      console.error(`error: ${(e as Error).message ?? e}`);
      Deno.exitCode = 1;
    }
  }
}
