/**
 * What the user sees while a pipeline runs. On a terminal: a live table of stage states with a
 * progress bar and ETA (from the rate of the stage's current phase) for stages that report
 * progress, log lines scrolling above it. Not on a terminal (CI): one plain line per event; a
 * stage's progress is printed when it enters a new phase (or, for a stage without phases, when
 * its message changes) and otherwise only after 30 s without a line from that stage, so a
 * training run prints its epoch log lines and nothing twice.
 * Both write to stderr; stdout is kept for results (summary line, tables, `--json`).
 *
 * @module
 */
import type { EventSink } from "../rebuilder/events.ts";
import type { Progress } from "../stage_kind.ts";
import { PhaseRate, positionText } from "./phase_rate.ts";

/** A stage's state as shown. */
export type StageState =
  | "waiting"
  | "running"
  | "ran"
  | "cached"
  | "pulled"
  | "failed"
  | "skipped"
  | "interrupted";

/** What the terminal shows of a run: stage states, progress, log lines, warnings. */
export interface View {
  state(stage: string, state: StageState, detail?: string): void;
  progress(stage: string, p: Progress): void;
  log(stage: string, line: string): void;
  warn(message: string): void;
  /** Stops redrawing; called once at the end. */
  close(): void;
}

/** Feeds the engine's events to a view. */
export function viewSink(view: View): EventSink {
  return (e) => {
    switch (e.type) {
      case "stage-started":
        return view.state(e.stage, "running");
      case "stage-progress":
        return view.progress(e.stage, e.progress);
      case "stage-log":
        return view.log(e.stage, e.line);
      case "warning":
        return view.warn(e.message);
      case "stage-finished":
        return view.state(e.stage, e.outcome, finishDetail(e));
      case "run-finished":
        return;
    }
  };
}

/** `12.3s` for a stage that ran, the first line of the reason for a failed or skipped one. */
function finishDetail(
  e: { outcome: StageState; seconds?: number; error?: string },
): string | undefined {
  if (e.outcome === "ran") return e.seconds === undefined ? undefined : `${e.seconds.toFixed(1)}s`;
  return e.error?.split("\n")[0];
}

/** The live view on a terminal, else plain lines. */
export function createView(stages: string[], quiet = false): View {
  if (quiet) return new PlainView(() => {});
  const write = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(s));
  return Deno.stderr.isTerminal() ? new LiveView(stages, write) : new PlainView(write);
}

/** `1m05s`, `42s`. */
function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  s = Math.round(s);
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** A plain line for a stage this long silent shows its progress anyway. */
const PLAIN_HEARTBEAT_MS = 30_000;

/** Plain view: one line per event. */
export class PlainView implements View {
  #write: (s: string) => void;
  #now: () => number;
  /** By stage: when its last line was printed, and its last progress. */
  #last = new Map<string, { at: number; progress?: Progress }>();

  /** `now` (ms) is for tests; default `performance.now`. */
  constructor(write: (s: string) => void, now: () => number = () => performance.now()) {
    this.#write = write;
    this.#now = now;
  }

  #line(text: string, stage?: string) {
    this.#write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
    if (stage) this.#last.set(stage, { ...this.#last.get(stage), at: this.#now() });
  }

  state(stage: string, state: StageState, detail?: string) {
    if (state === "waiting") return;
    const label = state === "running" ? "started" : state;
    this.#line(`${stage}: ${label}${detail ? ` (${detail})` : ""}`, stage);
  }

  progress(stage: string, p: Progress) {
    const last = this.#last.get(stage);
    const before = last?.progress;
    this.#last.set(stage, { at: last?.at ?? -Infinity, progress: p });
    const news = !before || before.phase !== p.phase ||
      (p.phase === undefined && before.message !== p.message);
    if (!news && this.#now() - (last?.at ?? -Infinity) < PLAIN_HEARTBEAT_MS) return;
    const frac = p.total && !p.of ? ` (${Math.round((100 * p.done) / p.total)}%)` : "";
    const text = [positionText(p) + frac, p.message].filter(Boolean).join(" ");
    this.#line(`${stage}: ${text}`, stage);
  }

  log(stage: string, line: string) {
    this.#line(`${stage} | ${line}`, stage);
  }

  warn(message: string) {
    this.#line(`warning: ${message}`);
  }

  close() {}
}

interface Row {
  state: StageState;
  detail?: string;
  progress?: Progress;
  started?: number;
  rate?: PhaseRate;
}

const SYMBOL: Record<StageState, string> = {
  waiting: "·",
  running: "▶",
  ran: "✓",
  cached: "✓",
  pulled: "↓",
  failed: "✗",
  skipped: "-",
  interrupted: "■",
};

/** Live view: redraws the stage table in place every 150 ms. */
export class LiveView implements View {
  #rows = new Map<string, Row>();
  #write: (s: string) => void;
  #drawn = 0;
  #shown = "";
  #timer: ReturnType<typeof setInterval>;
  #width: number;

  constructor(stages: string[], write: (s: string) => void) {
    for (const s of stages) this.#rows.set(s, { state: "waiting" });
    this.#write = write;
    this.#width = Math.max(...stages.map((s) => s.length), 5);
    this.#timer = setInterval(() => this.#draw(), 150);
  }

  state(stage: string, state: StageState, detail?: string) {
    const row = this.#rows.get(stage) ?? { state };
    row.state = state;
    row.detail = detail;
    if (state === "running") {
      row.started = performance.now();
      row.rate = new PhaseRate();
      row.progress = undefined;
    }
    this.#rows.set(stage, row);
  }

  progress(stage: string, p: Progress) {
    const row = this.#rows.get(stage);
    if (!row) return;
    row.progress = p;
    (row.rate ??= new PhaseRate()).update(p, performance.now());
  }

  log(stage: string, line: string) {
    this.#above(`${stage} | ${line}`);
  }

  warn(message: string) {
    this.#above(`warning: ${message}`);
  }

  close() {
    clearInterval(this.#timer);
    this.#draw();
  }

  #above(text: string) {
    this.#clear();
    this.#write(text + "\n");
    this.#draw();
  }

  #clear() {
    if (this.#drawn) this.#write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
    this.#shown = "";
  }

  /** Redraws the table when it changed; lines are cut to the terminal width so none wraps. */
  #draw() {
    let columns = 80;
    try {
      columns = Deno.consoleSize().columns || columns; // 0 on some pseudo-terminals
    } catch { /* not a console after all: keep 80 */ }
    const lines = [...this.#rows].map(([name, row]) =>
      this.#rowText(name, row).slice(0, columns - 1)
    );
    const text = lines.join("\n") + "\n";
    if (text === this.#shown) return;
    this.#clear();
    this.#write(text);
    this.#drawn = lines.length;
    this.#shown = text;
  }

  #rowText(name: string, row: Row): string {
    const head = `${SYMBOL[row.state]} ${name.padEnd(this.#width)} ${row.state.padEnd(7)}`;
    if (row.state !== "running") return `${head}${row.detail ? ` ${row.detail}` : ""}`.trimEnd();
    return `${head} ${runningText(row, performance.now())}`;
  }
}

/**
 * A running stage's progress: position in its phase, a bar over the whole phase, the ETA from
 * the phase's measured rate, the stage's message and its elapsed time, e.g.
 * `train epoch 3/20 71/167 [###-----------------]  14% ETA 52s loss 812.4 (31s)`.
 */
export function runningText(
  row: { started?: number; progress?: Progress; rate?: PhaseRate },
  now: number,
): string {
  const elapsed = formatSeconds((now - (row.started ?? now)) / 1000);
  const p = row.progress;
  if (!p) return elapsed;
  const reading = row.rate?.read(now);
  const parts = [positionText(p)];
  if (reading?.fraction !== undefined) {
    const bar = "#".repeat(Math.round(reading.fraction * 20)).padEnd(20, "-");
    parts.push(`[${bar}] ${String(Math.round(reading.fraction * 100)).padStart(3)}%`);
    parts.push(`ETA ${reading.etaSeconds === undefined ? "?" : formatSeconds(reading.etaSeconds)}`);
  }
  if (p.message) parts.push(p.message);
  parts.push(`(${elapsed})`);
  return parts.filter(Boolean).join(" ");
}
