/**
 * `dag [config|experiment] --format ascii|mermaid|dot`: the stage graph as text (an ASCII
 * drawing by default on a terminal, Mermaid when the output goes to a file or pipe).
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../../config/usage_error.ts";
import { toAscii, toDot, toMermaid } from "../dag_text.ts";
import { DEFAULT_CONFIG, layoutFrom, loadTarget } from "../options.ts";

const RENDER = { ascii: toAscii, mermaid: toMermaid, dot: toDot };

/** Adds the command to the program. */
export function registerDag(root: Command): void {
  root.command("dag")
    .description("print the stage graph: an ASCII drawing, Mermaid or Graphviz DOT text")
    .argument("[config]", "config file or experiment name", DEFAULT_CONFIG)
    .option(
      "--format <format>",
      "ascii, mermaid or dot (default: ascii on a terminal, else mermaid)",
    )
    .action(async (config: string, opts: { format?: string }, cmd: Command) => {
      const format = opts.format ?? (Deno.stdout.isTerminal() ? "ascii" : "mermaid");
      if (!Object.hasOwn(RENDER, format)) {
        throw new UsageError(`--format must be ascii, mermaid or dot, not ${format}`);
      }
      const { pipeline } = await loadTarget(layoutFrom(cmd), config, []);
      const text = RENDER[format as keyof typeof RENDER](pipeline);
      Deno.stdout.writeSync(new TextEncoder().encode(text));
    });
}
