/**
 * Two-level progress as the user sees it: the ETA comes from the rate of the current phase
 * (not from the stage's start), the bar fills once over all epochs, and plain (CI) output
 * prints a line per phase, never one per batch or a second line per epoch.
 */
import assert from "node:assert/strict";
import { PhaseRate, positionText } from "../pipeline/cli/phase_rate.ts";
import { LiveView, PlainView, runningText } from "../pipeline/cli/view.ts";
import type { Progress } from "../pipeline/stage_kind.ts";

const epoch = (e: number, batch: number): Progress => ({
  phase: "train",
  of: { done: e - 1, total: 20, unit: "epoch" },
  done: batch,
  total: 10,
  message: "loss 812.4",
});

Deno.test("progress: the ETA is measured from the current phase, not from a slow initialisation", () => {
  const rate = new PhaseRate();
  rate.update({ phase: "init k-means", done: 0, total: 25 }, 0);
  rate.update({ phase: "init k-means", done: 25, total: 25 }, 20_000); // a 20 s init
  // Training: one batch every 100 ms from t = 20 s, so 200 batches take 20 s.
  rate.update(epoch(1, 1), 20_000);
  const r = rate.update(epoch(2, 1), 21_000); // 10 batches later, 1 s later
  assert.equal(r.phase, "train");
  assert.equal(r.fraction, 11 / 200);
  assert.ok(Math.abs(r.etaSeconds! - 18.9) < 1e-9, `ETA ${r.etaSeconds}`);
});

Deno.test("progress: the bar fills once over all epochs instead of once per epoch", () => {
  const rate = new PhaseRate();
  rate.update(epoch(1, 10), 0);
  const endOfFirst = rate.read(0)!.fraction!;
  const startOfSecond = rate.update(epoch(2, 1), 1000).fraction!;
  assert.equal(endOfFirst, 10 / 200);
  assert.ok(startOfSecond > endOfFirst, "the bar must not jump back at a new epoch");
  assert.equal(positionText(epoch(2, 1)), "train epoch 2/20 1/10");
});

Deno.test("progress: a phase without a size shows its name and elapsed time but no bar or ETA", () => {
  const rate = new PhaseRate();
  rate.update({ phase: "load", done: 0 }, 0);
  const text = runningText({ started: 0, progress: { phase: "load", done: 0 }, rate }, 4000);
  assert.equal(text, "load (4s)");
});

Deno.test("progress: the live view shows phase, both levels, bar, ETA and elapsed time", () => {
  let live = "";
  const view = new LiveView(["train", "evaluate"], (s) => live += s);
  view.state("train", "running");
  view.progress("train", { done: 5, total: 10, message: "scoring" });
  view.state("evaluate", "cached");
  view.close();
  const last = live.split("\x1b[J").pop()!;
  // One report: no rate measured yet, so the ETA is unknown rather than invented.
  assert.match(
    last,
    /▶ train +running 5\/10 \[##########----------\] +50% ETA \? scoring \(0s\)\n/,
  );
  assert.match(last, /✓ evaluate +cached\n/);
});

Deno.test("progress: plain output prints a line per phase and one line per epoch (the stage's log)", () => {
  let clock = 0;
  const lines: string[] = [];
  const plain = new PlainView((s) => lines.push(s), () => clock);
  plain.state("train", "running");
  plain.progress("train", { phase: "load", done: 0 });
  for (let i = 0; i < 25; i++) {
    plain.progress("train", { phase: "init k-means", done: i, total: 25 });
    clock += 100;
  }
  for (let e = 1; e <= 3; e++) {
    for (let b = 1; b <= 10; b++) {
      plain.progress("train", epoch(e, b));
      clock += 100;
    }
    plain.log("train", `epoch ${e}/20: train loss 812.4, test MSE 800.1, 1.0 s`);
  }
  clock += 31_000; // a long silent stretch: one heartbeat line
  plain.progress("train", epoch(4, 5));
  plain.progress("train", epoch(4, 6));
  plain.state("train", "ran", "9.0s");
  assert.deepEqual(lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, "")), [
    "train: started\n",
    "train: load\n",
    "train: init k-means 0/25 (0%)\n",
    "train: train epoch 1/20 1/10 loss 812.4\n",
    "train | epoch 1/20: train loss 812.4, test MSE 800.1, 1.0 s\n",
    "train | epoch 2/20: train loss 812.4, test MSE 800.1, 1.0 s\n",
    "train | epoch 3/20: train loss 812.4, test MSE 800.1, 1.0 s\n",
    "train: train epoch 4/20 5/10 loss 812.4\n",
    "train: ran (9.0s)\n",
  ]);
});

Deno.test("progress: a stage without phases gets a plain line when its message changes", () => {
  const lines: string[] = [];
  const plain = new PlainView((s) => lines.push(s), () => 0);
  plain.progress("evaluate", { done: 0, total: 4, message: "scoring a" });
  plain.progress("evaluate", { done: 0, total: 4, message: "scoring a" });
  plain.progress("evaluate", { done: 1, total: 4, message: "scoring b" });
  assert.deepEqual(lines.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, "")), [
    "evaluate: 0/4 (0%) scoring a\n",
    "evaluate: 1/4 (25%) scoring b\n",
  ]);
});
