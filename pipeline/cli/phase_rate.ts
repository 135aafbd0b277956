/**
 * Turns a stage's stream of two-level `Progress` into what the view shows: the fraction of the
 * current phase (the series of epochs counted in, so the bar fills once over a whole training
 * run rather than once per epoch) and an ETA from the units done per second since the phase
 * began. Time spent in earlier phases (start-up, initialisation) never enters the rate.
 *
 * @module
 */
import type { Progress } from "../stage_kind.ts";

/** What one progress update means for the current phase. */
export interface PhaseReading {
  /** The phase's name (`undefined` for a stage that reports a single unnamed phase). */
  phase?: string;
  /** Fraction of the phase done, 0–1, when its size is known. */
  fraction?: number;
  /** Seconds left in the phase at the measured rate, once a rate has been measured. */
  etaSeconds?: number;
}

/** Units of the whole phase done and in total (steps of the series × units per step). */
function phaseUnits(p: Progress): { done: number; total?: number } {
  if (!p.of) return { done: p.done, total: p.total };
  const per = p.total;
  if (per === undefined) return { done: p.of.done, total: p.of.total };
  return { done: p.of.done * per + p.done, total: p.of.total * per };
}

/** Measures the rate of one stage's current phase; call `update` with each progress report. */
export class PhaseRate {
  #phase?: string;
  #started = false;
  #t0 = 0;
  #units0 = 0;
  #last?: Progress;

  /** True when `p` begins a phase other than the current one. */
  isNewPhase(p: Progress): boolean {
    return !this.#started || p.phase !== this.#phase;
  }

  /** Records a report received at `now` (ms); returns the reading at that moment. */
  update(p: Progress, now: number): PhaseReading {
    if (this.isNewPhase(p)) {
      this.#phase = p.phase;
      this.#started = true;
      this.#t0 = now;
      this.#units0 = phaseUnits(p).done;
    }
    this.#last = p;
    return this.read(now)!;
  }

  /** The reading at `now` (ms) from the last report; undefined before any report. */
  read(now: number): PhaseReading | undefined {
    const p = this.#last;
    if (!p) return undefined;
    const { done, total } = phaseUnits(p);
    const reading: PhaseReading = { phase: p.phase };
    if (total && total > 0) {
      reading.fraction = Math.min(1, Math.max(0, done / total));
      const seconds = (now - this.#t0) / 1000;
      const rate = (done - this.#units0) / seconds;
      if (seconds > 0 && rate > 0) reading.etaSeconds = Math.max(0, total - done) / rate;
    }
    return reading;
  }
}

/** `epoch 3/20 71/167`, `k-means 12/25`, `3.2 MB`: the position within the phase as text. */
export function positionText(p: Progress): string {
  const inner = p.total ? `${p.done}/${p.total}` : p.done ? String(p.done) : "";
  const outer = p.of
    ? `${p.of.unit ?? "step"} ${Math.min(p.of.done + 1, p.of.total)}/${p.of.total}`
    : "";
  return [p.phase, outer, inner].filter(Boolean).join(" ");
}
