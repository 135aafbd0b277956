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
import { registerRun } from "./commands/run.ts";

/** What follows a usage error. */
const HINT = "(run `bin/pipeline --help` for usage)";

/** Adds a command (or a group of them) to the program. */
type Register = (root: Command) => void;

/**
 * Each command module, by the top-level command names it adds, in `--help` order. A module is
 * loaded only when its command runs (or the whole program is asked for): a no-op `run` then
 * loads none of the others' code. `run` itself comes with this module: a dynamic import costs
 * Deno another pass over the module graph (~10 ms of a no-op run).
 */
const COMMANDS: { names: string[]; load: () => Promise<Register> }[] = [
  {
    names: ["run", "repro", "reproduce"],
    load: () => Promise.resolve(registerRun),
  },
  { names: ["status"], load: async () => (await import("./commands/status.ts")).registerStatus },
  { names: ["dag"], load: async () => (await import("./commands/dag.ts")).registerDag },
  {
    names: ["params", "metrics"],
    load: async () => (await import("./commands/diff.ts")).registerDiff,
  },
  { names: ["exp"], load: async () => (await import("./commands/exp.ts")).registerExp },
  { names: ["gc"], load: async () => (await import("./commands/gc.ts")).registerGc },
  { names: ["check"], load: async () => (await import("./commands/check.ts")).registerCheck },
  { names: ["push"], load: async () => (await import("./commands/push.ts")).registerPush },
  { names: ["pull"], load: async () => (await import("./commands/pull.ts")).registerPull },
  { names: ["verify"], load: async () => (await import("./commands/verify.ts")).registerVerify },
];

/**
 * The command `args` invoke: the first argument that is not the global `--root DIR`. None for
 * an option first (`--help`, `--version`, a typo): the whole program answers those.
 */
function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--root") i++;
    else if (!args[i].startsWith("--root=")) return args[i].startsWith("-") ? undefined : args[i];
  }
  return undefined;
}

/**
 * The program with the command `args` invoke, or with every command when `args` name none of
 * them (help, a typo commander suggests a command for) or are not given.
 */
export async function program(args?: readonly string[]): Promise<Command> {
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

  const name = args && commandOf(args);
  const named = COMMANDS.filter((c) => name !== undefined && c.names.includes(name));
  for (const c of named.length ? named : COMMANDS) (await c.load())(root);
  return root;
}

if (import.meta.main) {
  try {
    await (await program(Deno.args)).parseAsync(Deno.args, { from: "user" });
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
