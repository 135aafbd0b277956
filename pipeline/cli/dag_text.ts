/**
 * Text renderings of a pipeline's stage graph for `dag`: a plain-text drawing for the terminal,
 * Mermaid and Graphviz DOT.
 *
 * @module
 */
import type { Pipeline } from "../config/config.ts";

/** Mermaid flowchart: one box per stage (name and kind), one labelled edge per input wiring. */
export function toMermaid(p: Pipeline): string {
  // Index-based ids: stage names may hold "-", which Mermaid reads as part of an arrow.
  const ids = new Map(p.stages.map((s, i) => [s.name, `n${i}`]));
  const id = (name: string) => ids.get(name)!;
  const lines = ["flowchart LR"];
  for (const s of p.stages) lines.push(`  ${id(s.name)}["${s.name}<br/><i>${s.uses}</i>"]`);
  for (const [from, to, input] of edges(p)) lines.push(`  ${id(from)} -->|${input}| ${id(to)}`);
  return lines.join("\n") + "\n";
}

/** Graphviz DOT digraph with the same boxes and edges as {@link toMermaid}. */
export function toDot(p: Pipeline): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`digraph ${q(p.name)} {`, "  rankdir=LR;", "  node [shape=box];"];
  for (const s of p.stages) lines.push(`  ${q(s.name)} [label=${q(`${s.name}\n(${s.uses})`)}];`);
  for (const [from, to, input] of edges(p)) {
    lines.push(`  ${q(from)} -> ${q(to)} [label=${q(input)}];`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * A drawing in plain ASCII, one rank of the graph under the other (a stage sits one rank
 * below the deepest stage it needs), each stage with its kind and where its inputs come from:
 *
 * ```text
 * [download] (download)
 *     |
 *     v
 * [shuffle] (shuffle)          <- raw: download
 * ```
 */
export function toAscii(p: Pipeline): string {
  const rank = new Map<string, number>();
  for (const s of p.stages) {
    const ups = Object.values(s.needs).flat();
    rank.set(s.name, Math.max(-1, ...ups.map((u) => rank.get(u)!)) + 1);
  }
  const ranks = Math.max(...rank.values()) + 1;
  const boxes = p.stages.map((s) => `[${s.name}] (${s.uses})`);
  const width = Math.max(...boxes.map((b) => b.length)) + 2;
  const lines: string[] = [];
  for (let r = 0; r < ranks; r++) {
    if (r > 0) lines.push("    |", "    v");
    p.stages.forEach((s, i) => {
      if (rank.get(s.name) !== r) return;
      const from = Object.entries(s.needs).map(([input, ups]) => `${input}: ${ups.join(", ")}`);
      lines.push(from.length ? `${boxes[i].padEnd(width)}<- ${from.join("; ")}` : boxes[i]);
    });
  }
  return lines.join("\n") + "\n";
}

/** `[upstream, stage, input]` for every wiring, in run order then input order. */
function edges(p: Pipeline): [string, string, string][] {
  return p.stages.flatMap((s) =>
    Object.entries(s.needs).flatMap(([input, ups]) =>
      ups.map((up): [string, string, string] => [up, s.name, input])
    )
  );
}
