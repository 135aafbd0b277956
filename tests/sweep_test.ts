import assert from "node:assert/strict";
import { parseSweep, sweepGrid } from "../pipeline/config/sweep.ts";
import { UsageError } from "../pipeline/config/usage_error.ts";

Deno.test("sweep: two swept keys make the grid, named by the shortest unique part of each key", () => {
  const grid = sweepGrid([
    parseSweep("stages.train_llgae.with.components=5,11"),
    parseSweep("stages.train_llgae.with.epochs=[2, 4]"),
  ]);
  assert.deepEqual(grid.map((p) => p.suffix), [
    "components=5,epochs=2",
    "components=5,epochs=4",
    "components=11,epochs=2",
    "components=11,epochs=4",
  ]);
  assert.deepEqual(grid[1].sets, [
    "stages.train_llgae.with.components=5",
    "stages.train_llgae.with.epochs=4",
  ]);
  const same = sweepGrid([
    parseSweep("stages.train_lgae.with.epochs=2,4"),
    parseSweep("stages.train_llgae.with.epochs=3"),
  ]);
  assert.equal(same[0].suffix, "train_lgae.epochs=2,train_llgae.epochs=3");
});

Deno.test("sweep: a YAML list keeps list-typed values whole; --set is never split", () => {
  const s = parseSweep("stages.figure.with.sizes=[[1, 2], [3]]");
  assert.deepEqual(s.values, ["[1,2]", "[3]"]);
  assert.deepEqual(sweepGrid([s]).map((p) => p.suffix), ["sizes=1_2", "sizes=3"]);
  assert.throws(
    () => sweepGrid([parseSweep("stages.a.with.x=1,2")], ["stages.a.with.x"]),
    (e: Error) => e instanceof UsageError && /given by both --set and --sweep/.test(e.message),
  );
  assert.throws(() => parseSweep("components"), /bad --sweep "components": no KEY= found/);
  assert.throws(() => parseSweep("stages.a.with.x=1,1"), /value 1 is listed twice/);
});
