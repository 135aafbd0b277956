/**
 * Text renderings of a pipeline's stage graph for `dag`: Mermaid and Graphviz DOT.
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

/** `[upstream, stage, input]` for every wiring, in run order then input order. */
function edges(p: Pipeline): [string, string, string][] {
  return p.stages.flatMap((s) =>
    Object.entries(s.needs).flatMap(([input, ups]) =>
      ups.map((up): [string, string, string] => [up, s.name, input])
    )
  );
}
