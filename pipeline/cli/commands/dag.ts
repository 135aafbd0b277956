/**
 * `dag [config] --format mermaid|dot`: the stage graph as text.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../../config/usage_error.ts";
import { toDot, toMermaid } from "../dag_text.ts";
import { DEFAULT_CONFIG, layoutFrom, load } from "../options.ts";

/** Adds the command to the program. */
export function registerDag(root: Command): void {
  root.command("dag")
    .description("print the stage graph as Mermaid or Graphviz DOT text")
    .argument("[config]", "config file", DEFAULT_CONFIG)
    .option("--format <format>", "mermaid or dot", "mermaid")
    .action(async (config: string, opts: { format: string }, cmd: Command) => {
      if (opts.format !== "mermaid" && opts.format !== "dot") {
        throw new UsageError(`--format must be mermaid or dot, not ${opts.format}`);
      }
      const p = await load(layoutFrom(cmd), config, []);
      Deno.stdout.writeSync(
        new TextEncoder().encode(opts.format === "dot" ? toDot(p) : toMermaid(p)),
      );
    });
}
