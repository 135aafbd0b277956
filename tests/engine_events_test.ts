import assert from "node:assert/strict";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";
import { loadPipeline } from "../pipeline/config/config.ts";
import type { EngineEvent } from "../pipeline/rebuilder/events.ts";
import { runPipeline } from "../pipeline/rebuilder/rebuild.ts";
import { layout as layoutOf } from "../pipeline/store/layout.ts";

/** Runs the six-stage config in-process and returns every event in order. */
async function runEvents(p: TestProject, force?: string): Promise<EngineEvent[]> {
  const layout = layoutOf(p.root);
  const pipeline = await loadPipeline(p.path("configs/six.yaml"), { stagesRoot: layout.stages });
  const events: EngineEvent[] = [];
  await runPipeline({
    pipeline,
    layout,
    publishAs: "six",
    writeLockTo: p.path("configs/six.lock.json"),
    jobs: 2,
    force,
    onEvent: (e) => events.push(e),
    signal: new AbortController().signal,
  });
  return events;
}

/** Position of the first event matching. */
function at(events: EngineEvent[], type: EngineEvent["type"], stage?: string): number {
  return events.findIndex((e) =>
    e.type === type && (stage === undefined || "stage" in e && e.stage === stage)
  );
}

Deno.test("events: each stage starts, logs and finishes in order, after its upstream finished; run-finished is last", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const events = await runEvents(p);
    const needs: Record<string, string[]> = {
      a: [],
      b: [],
      ma: ["a"],
      mb: ["b"],
      j: ["ma", "mb"],
      final: ["j"],
    };
    for (const [stage, ups] of Object.entries(needs)) {
      const started = at(events, "stage-started", stage);
      const finished = at(events, "stage-finished", stage);
      assert.ok(started >= 0 && started < finished, `${stage}: started before finished`);
      for (const up of ups) {
        assert.ok(
          at(events, "stage-finished", up) < started,
          `${stage} starts after ${up} finished`,
        );
      }
      events.forEach((e, i) => {
        if ((e.type === "stage-log" || e.type === "stage-progress") && e.stage === stage) {
          assert.ok(started < i && i < finished, `${stage}: ${e.type} between start and finish`);
        }
      });
      const start = events[started] as Extract<EngineEvent, { type: "stage-started" }>;
      assert.deepEqual(start.reasons, [{ kind: "never-run" }]);
      const done = events[finished] as Extract<EngineEvent, { type: "stage-finished" }>;
      assert.equal(done.outcome, "ran");
      assert.match(done.key!, /^[0-9a-f]{64}$/);
      assert.ok(done.seconds! > 0);
    }
    const last = events.at(-1)!;
    assert.equal(last.type, "run-finished");
    assert.equal(last.type === "run-finished" && last.report.ran, 6);
    assert.equal(events.filter((e) => e.type === "run-finished").length, 1);

    const again = await runEvents(p, "mb");
    assert.deepEqual(
      again.filter((e) => e.type === "stage-started").map((e) => "stage" in e && e.stage),
      ["mb"],
    );
    const mb = again[at(again, "stage-started", "mb")];
    assert.deepEqual(mb.type === "stage-started" && mb.reasons, [{ kind: "forced" }]);
    const outcomes = again.filter((e) => e.type === "stage-finished").map((e) =>
      e.type === "stage-finished" && [e.stage, e.outcome]
    );
    // mb reruns with byte-identical output, so j and final stay cached (early cutoff).
    assert.deepEqual(Object.fromEntries(outcomes as [string, string][]), {
      a: "cached",
      b: "cached",
      ma: "cached",
      mb: "ran",
      j: "cached",
      final: "cached",
    });
  } finally {
    await p.dispose();
  }
});
