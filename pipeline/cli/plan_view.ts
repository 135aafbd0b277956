/**
 * The one rendering of a plan (the freshness of every stage): `status` and `run --dry-run`
 * print each stage's verdict in their command's word (up to date/stale, cached/would run) and
 * its reasons in the same words, from `describeReason`; `status --json` prints the typed
 * reasons with those words beside them. A stale stage whose only reasons are stale upstream
 * stages may be cut off early (if they rerun to byte-identical outputs, it stays cached), and
 * both renderings say so.
 *
 * @module
 */
import type { StagePlan } from "../rebuilder/plan.ts";
import { describeReason, type FreshNote, type StaleReason } from "../rebuilder/reasons.ts";

/** Which command prints the plan. */
export type PlanCommand = "status" | "dry-run";

const VERDICT: Record<PlanCommand, { fresh: string; stale: string; remote: string }> = {
  status: { fresh: "up to date", stale: "stale", remote: "on remote" },
  "dry-run": { fresh: "cached", stale: "would run", remote: "would pull" },
};

/** Whether the stage's result is in the remote cache only (seen there, not downloaded). */
export function onRemoteOnly(plan: StagePlan): boolean {
  const f = plan.freshness;
  return f.state === "fresh" && f.notes.some((n) => n.kind === "remote" && !n.pulled);
}

/** A reason or note with its words, as `--json` prints it. */
export type DescribedReason = (StaleReason | FreshNote) & { text: string };

/** The reasons of a stale stage, or the notes on a fresh one. */
function reasonsOf(plan: StagePlan): (StaleReason | FreshNote)[] {
  const f = plan.freshness;
  return f.state === "fresh" ? f.notes : f.reasons;
}

/** True when only stale upstream stages make `plan` stale: it may be cut off early. */
export function mayCutOff(plan: StagePlan): boolean {
  const f = plan.freshness;
  return f.state === "stale" && f.reasons.every((r) => r.kind === "upstream-stale");
}

/** `2 stale (1 may be cut off early)`. */
export function staleCount(plans: StagePlan[]): string {
  const stale = plans.filter((p) => p.freshness.state === "stale").length;
  const cut = plans.filter(mayCutOff).length;
  return `${stale} stale${cut ? ` (${cut} may be cut off early)` : ""}`;
}

/** The plan as lines of text: a verdict line per stage, then `    - reason` lines. */
export function planText(plans: StagePlan[], command: PlanCommand): string[] {
  const words = VERDICT[command];
  const used = [words.fresh, words.stale, ...(plans.some(onRemoteOnly) ? [words.remote] : [])];
  const verdictWidth = Math.max(...used.map((w) => w.length));
  const nameWidth = Math.max(...plans.map((p) => p.stage.length));
  const lines: string[] = [];
  for (const p of plans) {
    const word = p.freshness.state === "stale"
      ? words.stale
      : onRemoteOnly(p)
      ? words.remote
      : words.fresh;
    const verdict = word.padEnd(verdictWidth);
    const cut = mayCutOff(p) ? "  [may be cut off early]" : "";
    lines.push(
      command === "status"
        ? `${verdict}  ${p.stage.padEnd(nameWidth)}  (${p.uses})${cut}`
        : `${verdict} ${p.stage}${cut}`,
    );
    for (const r of reasonsOf(p)) lines.push(`    - ${describeReason(r)}`);
  }
  return lines;
}

/** The machine-readable plan of `status --json`. */
export interface PlanJson {
  config: string;
  upToDate: number;
  stale: number;
  /** Of the up-to-date stages, those whose result is in the remote cache only. */
  onRemote: number;
  stages: {
    stage: string;
    uses: string;
    state: "fresh" | "stale";
    /** Undefined while an upstream stage is stale. */
    key?: string;
    /** Stale only because upstream stages are: reruns only if their outputs change. */
    mayCutOff: boolean;
    /** Why it is stale, or notes on a fresh stage. */
    reasons: DescribedReason[];
  }[];
}

/** The plan as `status --json` prints it. */
export function planJson(plans: StagePlan[], config: string): PlanJson {
  const stale = plans.filter((p) => p.freshness.state === "stale").length;
  return {
    config,
    upToDate: plans.length - stale,
    stale,
    onRemote: plans.filter(onRemoteOnly).length,
    stages: plans.map((p) => ({
      stage: p.stage,
      uses: p.uses,
      state: p.freshness.state,
      key: p.freshness.key,
      mayCutOff: mayCutOff(p),
      reasons: reasonsOf(p).map((r) => ({ ...r, text: describeReason(r) })),
    })),
  };
}
