/**
 * What the engine and a stage subprocess tell each other. The engine writes one JSON line
 * (`ChildSpec`) to the child's stdin and keeps stdin open: the child exits when it closes, so
 * a killed engine never leaves stages running. The child writes `ChildEvent` JSON lines to
 * stdout; anything else it prints is kept as log text.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { Progress, Provenance } from "./stage_kind.ts";

/** Absolute path of the stage entry point every stage subprocess runs. */
export const STAGE_MAIN = fileURLToPath(new URL("./stage_main.ts", import.meta.url));

/** Everything `pipeline/stage_main.ts` needs to build the `StageContext` and call `run`. */
export interface ChildSpec {
  stage: string;
  /** Absolute path of the kind's `run.ts`. */
  runModule: string;
  params: unknown;
  runtime: Record<string, string>;
  inputs: Record<string, { stage: string; dir: string }[]>;
  outDir: string;
  stateDir: string;
  provenance: Provenance;
}

/** A line the child writes on stdout. */
export type ChildEvent =
  | { event: "progress"; progress: Progress }
  | { event: "log"; message: string }
  | { event: "done" }
  | { event: "error"; message: string };

/** Parses one stdout line: a ChildEvent, or undefined for plain text. */
export function parseChildEvent(line: string): ChildEvent | undefined {
  if (!line.startsWith('{"event":')) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
