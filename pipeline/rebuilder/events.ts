/**
 * The typed events a run emits, in order: per stage `stage-started` (only when it has to run),
 * then its `stage-progress` and `stage-log` events, then `stage-finished` (every stage, cached
 * and skipped ones included); `warning`s at any time; `run-finished` last. Front ends (the
 * live terminal view, plain CI lines, `--json`, a view of many runs, jobs reporting back from a
 * cluster) subscribe with an `EventSink`; the engine never prints.
 *
 * @module
 */
import type { Progress } from "../stage_kind.ts";
import type { StaleReason } from "./reasons.ts";
import type { RunReport, StageOutcome } from "./report.ts";

/** One event of a run. */
export type EngineEvent =
  | {
    type: "stage-started";
    stage: string;
    uses: string;
    key: string;
    /** Why it runs (the same reasons `status` prints). */
    reasons: StaleReason[];
  }
  | { type: "stage-progress"; stage: string; progress: Progress }
  | { type: "stage-log"; stage: string; line: string }
  | { type: "warning"; stage?: string; message: string }
  | {
    type: "stage-finished";
    stage: string;
    uses: string;
    outcome: StageOutcome;
    key?: string;
    /** Wall-clock seconds of the run (ran and failed stages that started). */
    seconds?: number;
    /** Why it failed or was skipped. */
    error?: string;
  }
  | { type: "run-finished"; report: RunReport };

/** Receives the events of a run. */
export type EventSink = (event: EngineEvent) => void;
