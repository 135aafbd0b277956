/**
 * The end of a run as printed: the config's headline numbers (each stage kind's
 * `headline.metrics`, e.g. the test MSE of each model), the paths of its headline files (the
 * report), the total wall time, the summary line last, and after an interruption a last line
 * saying that rerunning resumes.
 *
 * @module
 */
import { join } from "node:path";
import type { Pipeline } from "../config/config.ts";
import { projectRelative } from "../config/experiments.ts";
import type { RunReport } from "../rebuilder/rebuild.ts";
import type { Layout } from "../store/layout.ts";

/** What the last lines are made of. */
export interface RunEnd {
  layout: Layout;
  pipeline: Pipeline;
  report: RunReport;
  /** Where outputs were published: `artifacts/out/<publishAs>/`. */
  publishAs: string;
  /** Wall time of the whole command so far. */
  seconds: number;
  /** The run was interrupted (Ctrl-C, SIGTERM). */
  interrupted: boolean;
  /** The command line to rerun, e.g. `bin/pipeline run configs/paper.yaml`. */
  command: string;
}

/**
 * `stages: 2 ran, 5 cached, 0 failed` (and `, N pulled from the remote cache`, `, N interrupted`
 * for stages a Ctrl-C stopped or kept from starting: they did not fail).
 */
export function summaryLine(
  r: Pick<RunReport, "ran" | "cached" | "pulled" | "failed"> & { interrupted?: number },
): string {
  const pulled = r.pulled ? `, ${r.pulled} pulled from the remote cache` : "";
  const interrupted = r.interrupted ? `, ${r.interrupted} interrupted` : "";
  return `stages: ${r.ran} ran, ${r.cached} cached, ${r.failed} failed${pulled}${interrupted}`;
}

/** `1m05s`, `42.3s`. */
export function wallTime(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** The value at a dotted path of a metrics object. */
function at(metrics: unknown, path: string): unknown {
  let v = metrics;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A metric as printed: numbers to 6 significant digits. */
function show(v: unknown): string {
  return typeof v === "number" ? String(Number(v.toPrecision(6))) : JSON.stringify(v);
}

/** The lines that end a run, summary line last (or the resume hint after an interruption). */
export function runEndLines(o: RunEnd): string[] {
  const lines: string[] = [];
  const kinds = new Map(o.pipeline.stages.map((s) => [s.name, s.kind]));
  const numbers: string[] = [];
  const files: string[] = [];
  for (const s of o.report.stages) {
    const headline = kinds.get(s.stage)?.headline;
    if (!headline || !["ran", "cached", "pulled"].includes(s.status)) continue;
    for (const key of headline.metrics ?? []) {
      const v = at(s.metrics, key);
      if (v !== undefined) numbers.push(`${s.stage} ${key} ${show(v)}`);
    }
    for (const file of headline.files ?? []) {
      if (s.outputs?.[file]) {
        files.push(projectRelative(o.layout, join(o.layout.out, o.publishAs, s.stage, file)));
      }
    }
  }
  if (numbers.length) lines.push(`results: ${numbers.join(", ")}`);
  for (const f of files) lines.push(`open: ${f}`);
  lines.push(`wall time ${wallTime(o.seconds)}`);
  lines.push(summaryLine(o.report));
  if (o.interrupted) {
    lines.push(
      `interrupted: rerun \`${o.command}\` to resume (finished stages are cached, ` +
        `a stage with checkpoints continues from its last one)`,
    );
  }
  return lines;
}
