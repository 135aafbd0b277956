/**
 * Reads what a stage entry point prints on stdout (the `ChildEvent` lines of
 * `pipeline/protocol.ts`, anything else being log text) and turns it into the executor hooks'
 * progress and log calls, remembering whether the stage said `done` and its error, if any.
 * Executors share it, whether the lines come from a pipe or from a job's log file.
 *
 * @module
 */
import { parseChildEvent } from "../protocol.ts";
import type { JobHooks } from "./executor.ts";

/** The interpretation of one stage's stdout, line by line. */
export class ChildOutput {
  /** The stage reported success. */
  done = false;
  /** The error the stage reported, if any. */
  error?: string;
  readonly #hooks: Pick<JobHooks, "onProgress" | "onLog">;
  readonly #writeLog: (line: string) => void;

  /** `writeLog` receives the human-readable lines (left out when the log already has them). */
  constructor(
    hooks: Pick<JobHooks, "onProgress" | "onLog">,
    writeLog: (line: string) => void = () => {},
  ) {
    this.#hooks = hooks;
    this.#writeLog = writeLog;
  }

  /** Handles one stdout line (without its newline). */
  line(text: string): void {
    const e = parseChildEvent(text);
    if (!e) {
      this.#writeLog(text);
      this.#hooks.onLog(text);
    } else if (e.event === "progress") this.#hooks.onProgress(e.progress);
    else if (e.event === "log") {
      this.#writeLog(e.message);
      this.#hooks.onLog(e.message);
    } else if (e.event === "done") this.done = true;
    else if (e.event === "error") {
      this.error = e.message;
      this.#writeLog(`error: ${e.message}`);
    }
  }
}
