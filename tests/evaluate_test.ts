import assert from "node:assert/strict";
import { contingency, majorityClass, nmi, purity, usage } from "../stages/evaluate/agreement.ts";
import { meanImage, projectionErrors } from "../stages/evaluate/baselines.ts";
import { summarizeErrors } from "../stages/evaluate/scores.ts";

function assertClose(actual: number, expected: number, tol = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);
}

Deno.test("agreement: a choice equal to the label has purity 1 and NMI 1", () => {
  const table = contingency(
    new Int32Array([0, 0, 1, 1, 2]),
    new Uint8Array([3, 3, 7, 7, 1]),
    3,
    10,
  );
  assert.equal(purity(table), 1);
  assertClose(nmi(table), 1);
  assert.deepEqual(usage(table), [2, 2, 1]);
  assert.deepEqual(majorityClass(table), [3, 7, 1]);
});

Deno.test("agreement: a choice independent of the label has NMI 0 and purity 1/2", () => {
  const table = contingency(new Int32Array([0, 0, 1, 1]), new Uint8Array([0, 1, 0, 1]), 2, 2);
  assert.equal(purity(table), 0.5);
  assertClose(nmi(table), 0);
});

Deno.test("agreement: NMI and purity match a hand-computed 2×2 example", () => {
  // counts: k0 = {c0: 2, c1: 1}, k1 = {c1: 1}; p(k) = (3/4, 1/4), p(c) = (1/2, 1/2)
  const table = contingency(new Int32Array([0, 0, 0, 1]), new Uint8Array([0, 0, 1, 1]), 2, 2);
  const mutual = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
  const hk = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const hc = Math.log(2);
  assertClose(nmi(table), mutual / ((hk + hc) / 2)); // ≈ 0.3437
  assertClose(nmi(table), 0.343712, 1e-6);
  assert.equal(purity(table), 0.75);
});

Deno.test("agreement: one component (LGAE) gives NMI 0 and the largest class share as purity", () => {
  const table = contingency(new Int32Array(4), new Uint8Array([0, 1, 1, 2]), 1, 3);
  assertClose(nmi(table), 0);
  assert.equal(purity(table), 0.5);
  assert.deepEqual(majorityClass(table), [1]);
});

Deno.test("agreement: an unused component has no majority class", () => {
  const table = contingency(new Int32Array([1, 1]), new Uint8Array([4, 4]), 3, 10);
  assert.deepEqual(majorityClass(table), [null, 4, null]);
});

Deno.test("agreement: a choice outside 0..K-1 is an error naming the index", () => {
  assert.throws(
    () => contingency(new Int32Array([0, 5]), new Uint8Array([0, 0]), 2, 10),
    /choice 5 at index 1/,
  );
});

Deno.test("baselines: projection error matches a hand-computed 2-pixel example", () => {
  const x = new Float32Array([3, 4]);
  const mean = new Float32Array([0, 0]);
  // Mean only: (3² + 4²) / 2 pixels.
  assert.deepEqual(Array.from(projectionErrors(x, 1, 2, mean, new Float32Array(0), 0)), [12.5]);
  // Projection on the first axis keeps 3 and loses 4: 4² / 2.
  assert.deepEqual(Array.from(projectionErrors(x, 1, 2, mean, new Float32Array([1, 0]), 1)), [8]);
});

Deno.test("baselines: a full-rank orthonormal basis reconstructs exactly", () => {
  const x = new Float32Array([1, 2, 3, -4, 5, 6]);
  const mean = meanImage(x, 2, 3);
  assert.deepEqual(Array.from(mean), [-1.5, 3.5, 4.5]);
  const s = Math.SQRT1_2;
  const basis = new Float32Array([s, s, 0, s, -s, 0, 0, 0, 1]);
  for (const e of projectionErrors(x, 2, 3, mean, basis, 3)) assertClose(e, 0, 1e-10);
});

Deno.test("scores: test MSE is the mean over images and per-class MSE is keyed by class name", () => {
  const summary = summarizeErrors([1, 3, 10], new Uint8Array([0, 0, 9]));
  assertClose(summary.test_mse, 14 / 3);
  assert.deepEqual(summary.per_class, { "T-shirt/top": 2, "Ankle boot": 10 });
});
