/**
 * The `pipeline` command (`bin/pipeline …`, or `deno task pipeline …`): one module per command
 * under `commands/`. A usage error prints one line and a hint to `--help`, not the whole help.
 * Exit codes: 0 ok, 1 a stage failed, metrics drifted or (`status --quiet`) something is
 * stale, 2 bad usage or config, 130 interrupted.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
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

/** What follows a usage error. */
const HINT = "(run `bin/pipeline --help` for usage)";

/** The program with every command. */
export function program(): Command {
  const root = new Command("pipeline")
    .description("Run YAML-declared stage pipelines with a content-addressed cache.")
    .option("--root <dir>", "project root (default: this checkout, or $PIPELINE_ROOT)")
    .showHelpAfterError(HINT)
    .exitOverride()
    .addHelpText(
      "after",
      `\nExamples:\n  bin/pipeline run configs/smoke.yaml\n  bin/pipeline status --quiet\n` +
        `  bin/pipeline exp run k20 -S stages.train_llgae.with.components=20\n` +
        `  bin/pipeline metrics diff configs/paper.yaml k20\n  bin/pipeline dag configs/smoke.yaml`,
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
    if (e instanceof CommanderError) {
      // Commander has printed its one-line error and the hint (or the help asked for).
      Deno.exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${HINT}`);
      Deno.exitCode = 2;
    } else if (e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      Deno.exitCode = 2;
    } else {
      console.error(`error: ${(e as Error).message ?? e}`);
      Deno.exitCode = 1;
    }
  }
}
