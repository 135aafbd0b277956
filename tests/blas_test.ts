/**
 * The `blas` tfjs backend against the cpu backend (kernels, the LLGAE training step, determinism) and the
 * backend probe's fallback. Skips (with a message) when OpenBLAS is not installed.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs"; // registers the gradients (tfjs-core alone has none)
import assert from "node:assert/strict";
import { Rng } from "../stages/lib/prng.ts";
import { backendRuntime, probeBackend } from "../stages/lib/backend_probe.ts";
import { openBlas } from "../stages/lib/blas/openblas.ts";
import { registerBlasBackend } from "../stages/lib/blas/backend.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { forward } from "../stages/train/model.ts";
import { Rmsprop } from "../stages/train/optimizer.ts";
import { principalSubspace } from "../stages/lib/pca.ts";

const probe = probeBackend("auto");
const ignore = probe.backend !== "blas";
if (ignore) console.warn(`blas_test: skipping BLAS tests, ${probe.notice}`);
else registerBlasBackend(openBlas({ threads: 2 }));

/** Seeded uniform values in [-1, 1). */
function randomValues(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.float() * 2 - 1;
  return out;
}

/** Runs `f` on `backend` with fresh tensors of the given data; returns every output's values. */
async function runOn(
  backend: string,
  inputs: { values: Float32Array; shape: number[] }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((x) => tf.tensor(x.values, x.shape, "float32"));
  const ys = [f(...xs)].flat();
  const out = ys.map((y) => ({ shape: y.shape, values: y.dataSync() as Float32Array }));
  tf.dispose([...xs, ...ys]);
  return out;
}

/**
 * Each element within `tol` of the cpu value, relative to that value's magnitude (at least 1),
 * or with `ofMax`, relative to the largest magnitude in the output (for small gradients).
 */
function assertClose(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
  tol = 1e-4,
  ofMax = false,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const max = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const scale = ofMax ? max : Math.max(1, Math.abs(expected[i]));
    if (!(err <= tol * scale)) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, cpu gives ${expected[i]}`);
    }
  }
}

/** Same shapes and values (to float tolerance) from `f` on the blas and cpu backends. */
async function assertSameAsCpu(
  what: string,
  inputs: { values: Float32Array; shape: number[] }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol?: number,
  ofMax?: boolean,
) {
  const fast = await runOn("blas", inputs, f);
  const ref = await runOn("cpu", inputs, f);
  assert.equal(fast.length, ref.length);
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(fast[i].shape, ref[i].shape, `${what}: output ${i} shape`);
    assertClose(fast[i].values, ref[i].values, `${what}: output ${i}`, tol, ofMax);
  }
}

function operand(rng: Rng, shape: number[]) {
  return { values: randomValues(rng, shape.reduce((p, d) => p * d, 1)), shape };
}

/** [batchA, batchB, m, k, n]: random, tiny and empty sizes, shared and one-sided batches. */
const MATMUL_CASES: [number[], number[], number, number, number][] = [
  [[], [], 1, 1, 1],
  [[], [], 7, 13, 5],
  [[], [], 360, 784, 220],
  [[], [], 0, 4, 3],
  [[], [], 3, 0, 4],
  [[], [], 3, 4, 0],
  [[4], [4], 5, 6, 7],
  [[4], [], 5, 6, 7],
  [[], [4], 5, 6, 7],
  [[1], [3], 2, 20, 20],
  [[2, 3], [2, 3], 3, 2, 4],
  [[0], [0], 3, 2, 4],
  [[11], [11], 36, 20, 20],
  [[], [11], 36, 78, 20], // the batch shared by every component, as in the model…
  [[], [11], 360, 784, 20], // …at its real size, big enough for both BLAS threads
  [[1], [2, 3], 4, 5, 6],
];

Deno.test({
  name: "blas matMul: matches cpu for every transpose on random, tiny, empty and batched shapes",
  ignore,
  async fn() {
    const rng = new Rng(5);
    for (const [batchA, batchB, m, k, n] of MATMUL_CASES) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const a = operand(rng, [...batchA, ...(transposeA ? [k, m] : [m, k])]);
          const b = operand(rng, [...batchB, ...(transposeB ? [n, k] : [k, n])]);
          await assertSameAsCpu(
            `matMul [${a.shape}]x[${b.shape}] tA=${transposeA} tB=${transposeB}`,
            [a, b],
            (x, y) => tf.matMul(x, y, transposeA, transposeB),
          );
        }
      }
    }
  },
});

Deno.test({
  name:
    "blas dgemm: float64 products match a plain loop for every transpose, and pca on blas matches cpu",
  ignore,
  async fn() {
    const rng = new Rng(16);
    const blas = openBlas({ threads: 2 });
    for (const [m, k, n] of [[1, 1, 1], [7, 300, 5], [40, 3, 33]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = Float64Array.from({ length: m * k }, () => rng.float() - 0.5);
          const b = Float64Array.from({ length: k * n }, () => rng.float() - 0.5);
          const c = new Float64Array(m * n);
          blas.dgemm(ta, tb, m, n, k, a, b, c);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let l = 0; l < k; l++) {
                s += a[ta ? l * m + i : i * k + l] * b[tb ? j * k + l : l * n + j];
              }
              assert.ok(
                Math.abs(s - c[i * n + j]) < 1e-12,
                `dgemm ${m}x${k}x${n} tA=${ta} tB=${tb}`,
              );
            }
          }
        }
      }
    }
    const [n, d, e] = [300, 40, 4];
    const x = Float32Array.from({ length: n * d }, (_, i) => (rng.float() - 0.5) * (1 + (i % d)));
    await tf.setBackend("cpu");
    const cpu = principalSubspace(x, n, d, e);
    await tf.setBackend("blas");
    const onBlas = principalSubspace(x, n, d, e);
    for (let i = 0; i < e; i++) {
      assert.ok(Math.abs(cpu.variances[i] - onBlas.variances[i]) < 1e-5 * cpu.variances[0]);
    }
    for (let i = 0; i < e * d; i++) {
      assert.ok(Math.abs(cpu.components[i] - onBlas.components[i]) < 1e-4, `component value ${i}`);
    }
  },
});

Deno.test({
  name: "blas matMul: broadcasts batch dims both ways like cpu does on pre-broadcast operands",
  ignore,
  async fn() {
    // The cpu kernel flattens batch dims, so compare against it after broadcasting explicitly.
    const rng = new Rng(6);
    for (const [batchA, batchB] of [[[2, 1], [1, 3]], [[3, 1, 2], [4, 1]], [[1], [2, 2]]]) {
      const out = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
      const a = operand(rng, [...batchA, 3, 5]);
      const b = operand(rng, [...batchB, 4, 5]);
      const fast = await runOn("blas", [a, b], (x, y) => tf.matMul(x, y, false, true));
      const ref = await runOn(
        "cpu",
        [a, b],
        (x, y) =>
          tf.matMul(
            tf.broadcastTo(x, [...out, 3, 5]),
            tf.broadcastTo(y, [...out, 4, 5]),
            false,
            true,
          ),
      );
      assert.deepEqual(fast[0].shape, [...out, 3, 4]);
      assertClose(fast[0].values, ref[0].values, `broadcast [${a.shape}]x[${b.shape}]`);
    }
  },
});

Deno.test({
  name: "blas matMul: mismatched inner dims throw an error naming both shapes",
  ignore,
  async fn() {
    await tf.setBackend("blas");
    tf.tidy(() => {
      assert.throws(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5])), /\[2,3\].*\[4,5\]/);
    });
  },
});

Deno.test({
  name: "blas matMul: int32 inputs give the cpu kernel's exact result",
  ignore,
  async fn() {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [7, 8, 9, 10, 11, 12];
    const results: number[][] = [];
    for (const backend of ["blas", "cpu"]) {
      await tf.setBackend(backend);
      const y = tf.matMul(tf.tensor2d(a, [2, 3], "int32"), tf.tensor2d(b, [3, 2], "int32"));
      assert.equal(y.dtype, "int32");
      results.push(Array.from(y.dataSync()));
      y.dispose();
    }
    assert.deepEqual(results[0], results[1]);
  },
});

Deno.test({
  name: "blas fused matMul: bias and every activation match cpu",
  ignore,
  async fn() {
    const rng = new Rng(7);
    const activations = [
      "linear",
      "relu",
      "relu6",
      "elu",
      "sigmoid",
      "leakyrelu",
      "prelu",
    ] as const;
    for (const activation of activations) {
      for (const [transposeA, transposeB] of [[false, false], [true, true]]) {
        const a = operand(rng, transposeA ? [9, 6] : [6, 9]);
        const b = operand(rng, transposeB ? [5, 9] : [9, 5]);
        const bias = operand(rng, activation === "elu" ? [6, 5] : [5]);
        const alpha = operand(rng, [5]);
        await assertSameAsCpu(
          `fused ${activation} tA=${transposeA} tB=${transposeB}`,
          [a, b, bias, alpha],
          (x, y, c, p) =>
            tf.fused.matMul({
              a: x as tf.Tensor2D,
              b: y as tf.Tensor2D,
              transposeA,
              transposeB,
              bias: c,
              activation,
              preluActivationWeights: activation === "prelu" ? p : undefined,
              leakyreluAlpha: 0.3,
            }),
        );
      }
    }
  },
});

Deno.test({
  name: "blas: two identical sequences of matrix products give identical bytes",
  ignore,
  async fn() {
    const rng = new Rng(9);
    const inputs = [operand(rng, [360, 784]), operand(rng, [784, 220]), operand(rng, [11, 20, 20])];
    const sequence = (x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => {
      const p = tf.matMul(x, w); // 360×220
      const b = tf.transpose(tf.reshape(p, [360, 11, 20]), [1, 0, 2]); // 11×360×20
      const cb = tf.matMul(b, c); // 11×360×20
      return [p, cb, tf.matMul(x, p, true, false)];
    };
    const first = await runOn("blas", inputs, sequence);
    const second = await runOn("blas", inputs, sequence);
    for (let i = 0; i < first.length; i++) {
      assert.deepEqual(
        new Uint8Array(second[i].values.buffer),
        new Uint8Array(first[i].values.buffer),
      );
    }
  },
});

Deno.test("probeBackend: a missing library makes auto fall back to wasm with a notice", () => {
  const bogus = "/nonexistent/libopenblas-bogus.so";
  const fallback = probeBackend("auto", { library: bogus });
  assert.equal(fallback.backend, "wasm");
  assert.equal(fallback.library, undefined);
  assert.match(fallback.notice ?? "", /using wasm.*libopenblas-bogus\.so/);
  assert.ok(!fallback.notice!.includes("\n"), "notice is one line");
  assert.deepEqual(backendRuntime(fallback), { backend: "wasm" });
});

Deno.test("probeBackend: forcing blas with a missing library throws naming the path", () => {
  assert.throws(
    () => probeBackend("blas", { library: "/nonexistent/libopenblas-bogus.so" }),
    /libopenblas-bogus\.so.*libopenblas0-pthread/,
  );
});

Deno.test("probeBackend: wasm and cpu resolve to themselves without loading anything", () => {
  assert.deepEqual(probeBackend("wasm"), { backend: "wasm" });
  assert.deepEqual(probeBackend("cpu"), { backend: "cpu" });
});

Deno.test({
  name: "probeBackend: auto with OpenBLAS present records library and fixed thread count",
  ignore,
  fn() {
    const found = probeBackend("auto", { threads: 1 });
    assert.equal(found.backend, "blas");
    assert.equal(found.threads, 1);
    assert.match(found.library ?? "", /OpenBLAS/);
    const runtime = backendRuntime(found);
    assert.equal(runtime.blas_threads, "1");
    assert.equal(runtime.blas_library, found.library);
    openBlas({ threads: 2 });
  },
});

/**
 * The values with every NaN as the one canonical NaN. A NaN's sign and payload bits depend on
 * whether V8 ran `Math.max` & co. interpreted or JIT-compiled (x86 makes negative NaNs), so
 * they carry no meaning and differ from run to run on either backend.
 */
function canonicalNaNs(values: Float32Array): Float32Array {
  return values.map((v) => Number.isNaN(v) ? NaN : v);
}

/** Bit-identical outputs from `f` on the blas and cpu backends (NaN payloads aside). */
async function assertIdenticalToCpu(
  what: string,
  inputs: { values: Float32Array; shape: number[] }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
) {
  const [fast] = await runOn("blas", inputs, f);
  const [ref] = await runOn("cpu", inputs, f);
  assert.deepEqual(fast.shape, ref.shape, `${what}: shape`);
  assert.deepEqual(canonicalNaNs(fast.values), canonicalNaNs(ref.values), `${what}: values`);
}

Deno.test({
  name: "blas elementwise: broadcasting binary ops are bit-identical to cpu",
  ignore,
  async fn() {
    const rng = new Rng(10);
    const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ["add", tf.add],
      ["sub", tf.sub],
      ["mul", tf.mul],
      ["div", tf.div],
      ["squaredDifference", tf.squaredDifference],
      ["maximum", tf.maximum],
      ["minimum", tf.minimum],
    ];
    const shapes: [number[], number[]][] = [
      [[36, 78], [36, 78]],
      [[36, 78], [78]],
      [[78], [36, 78]],
      [[36, 78], [36, 1]],
      [[36, 78], []],
      [[], [5]],
      [[3, 1], [1, 4]],
      [[36, 11, 20], [36, 11, 1]],
      [[11, 1, 20], [1, 36, 1]],
      [[2, 3, 4, 5], [3, 1, 5]],
      [[0, 3], [3]],
      [[1], [1]],
    ];
    const specials = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-45, 3e38, -2.5]);
    const special = (v: number[]) => ({ values: Float32Array.from(v), shape: [v.length] });
    for (const [name, op] of ops) {
      for (const [aShape, bShape] of shapes) {
        await assertIdenticalToCpu(
          `${name} [${aShape}] [${bShape}]`,
          [operand(rng, aShape), operand(rng, bShape)],
          op,
        );
      }
      // NaN, infinities, signed zeros and a zero scalar take the same paths as on cpu.
      const s = { values: specials, shape: [8] };
      await assertIdenticalToCpu(`${name} specials`, [s, special([...specials].reverse())], op);
      for (const v of [0, -0, NaN, 2]) {
        await assertIdenticalToCpu(`${name} specials by ${v}`, [s, special([v])], op);
        await assertIdenticalToCpu(`${v} ${name} specials`, [special([v]), s], op);
      }
    }
  },
});

Deno.test({
  name: "blas transpose: every permutation of float32 and int32 tensors is identical to cpu",
  ignore,
  async fn() {
    const rng = new Rng(11);
    const cases: [number[], number[]][] = [
      [[36, 78], [1, 0]],
      [[3, 40, 70], [0, 2, 1]],
      [[70, 33, 2], [2, 1, 0]],
      [[4, 5, 6], [1, 0, 2]],
      [[4, 5, 6], [2, 0, 1]],
      [[4, 5, 6], [0, 2, 1]],
      [[4, 1, 6], [2, 1, 0]],
      [[2, 3, 4, 5], [3, 1, 2, 0]],
      [[0, 5], [1, 0]],
      [[7], [0]],
    ];
    for (const [shape, perm] of cases) {
      await assertIdenticalToCpu(
        `transpose [${shape}] by [${perm}]`,
        [operand(rng, shape)],
        (x) => tf.transpose(x, perm),
      );
      await assertIdenticalToCpu(`int32 transpose [${shape}] by [${perm}]`, [
        operand(rng, shape),
      ], (x) => tf.cast(tf.transpose(tf.cast(tf.mul(x, 100), "int32"), perm), "float32"));
    }
  },
});

Deno.test({
  name: "blas sum and mean: any axes, keepDims and empty inputs are bit-identical to cpu",
  ignore,
  async fn() {
    const rng = new Rng(12);
    const cases: [number[], number | number[] | undefined][] = [
      [[36, 78], 0],
      [[36, 78], 1],
      [[36, 78], -1],
      [[36, 78], undefined],
      [[11, 36, 20], [0, 2]],
      [[11, 36, 20], [1]],
      [[11, 1, 20], 0],
      [[2, 3, 4, 5], [1, 3]],
      [[0, 4], 0],
      [[0, 4], 1],
    ];
    for (const [shape, axis] of cases) {
      for (const keepDims of [false, true]) {
        const what = `[${shape}] axis ${axis} keepDims ${keepDims}`;
        const x = [operand(rng, shape)];
        await assertIdenticalToCpu(`sum ${what}`, x, (t) => tf.sum(t, axis, keepDims));
        await assertIdenticalToCpu(`mean ${what}`, x, (t) => tf.mean(t, axis, keepDims));
      }
    }
  },
});

Deno.test({
  name: "blas argMin and argMax: every axis, ties, NaNs and empty axes are identical to cpu",
  ignore,
  async fn() {
    const rng = new Rng(17);
    const ties = operand(rng, [6, 5, 4]);
    ties.values = ties.values.map((v) => Math.round(v * 2)); // few distinct values: many ties
    const nans = operand(rng, [7, 9]);
    for (const i of [0, 3, 20, 40, 62]) nans.values[i] = NaN; // one at the start of a scan
    const cases: [{ values: Float32Array; shape: number[] }, number[]][] = [
      [operand(rng, [11, 36]), [0, 1, -1]],
      [ties, [0, 1, 2]],
      [nans, [0, 1]],
      [operand(rng, [1, 5]), [0, 1]],
      [operand(rng, [0, 4]), [1]],
      [operand(rng, [3, 0, 2]), [1]],
    ];
    for (const [x, axes] of cases) {
      for (const axis of axes) {
        const what = `[${x.shape}] axis ${axis}`;
        await assertIdenticalToCpu(`argMin ${what}`, [x], (t) => tf.argMin(t, axis));
        await assertIdenticalToCpu(`argMax ${what}`, [x], (t) => tf.argMax(t, axis));
      }
    }
  },
});

Deno.test({
  name: "blas gather, segment sum, slice, tile, fills and unary ops are bit-identical to cpu",
  ignore,
  async fn() {
    const rng = new Rng(13);
    const ids = (n: number, k: number) => Array.from({ length: n }, () => rng.int(0, k - 1));
    const x = operand(rng, [11, 6, 5]);
    for (const axis of [0, 1, 2]) {
      const idx = ids(7, x.shape[axis]);
      await assertIdenticalToCpu(
        `gather axis ${axis}`,
        [x],
        (t) => tf.gather(t, tf.tensor1d(idx, "int32"), axis),
      );
    }
    const idx2 = ids(2 * 3, 6);
    await assertIdenticalToCpu("gather 2-d indices with batchDims 1", [operand(rng, [2, 6, 4])], (
      t,
    ) => tf.gather(t, tf.tensor2d(idx2, [2, 3], "int32"), 1, 1));
    await assertIdenticalToCpu(
      "gather no indices",
      [x],
      (t) => tf.gather(t, tf.tensor1d([], "int32"), 0),
    );
    await tf.setBackend("blas");
    assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], "int32")), /index 3/);

    const segIds = ids(40, 11);
    segIds[3] = -1; // dropped, as in TensorFlow
    await assertIdenticalToCpu(
      "unsortedSegmentSum",
      [operand(rng, [40, 7, 3])],
      (t) => tf.unsortedSegmentSum(t, tf.tensor1d(segIds, "int32"), 11),
    );

    const y = operand(rng, [5, 6, 7]);
    for (
      const [begin, size] of [[[1, 2, 3], [3, 2, 4]], [[0, 0, 2], [5, 6, 3]], [[2, 0, 0], [
        2,
        6,
        7,
      ]], [[0, 1, 0], [-1, 1, -1]]]
    ) {
      await assertIdenticalToCpu(`slice ${begin} ${size}`, [y], (t) => tf.slice(t, begin, size));
    }
    for (const reps of [[1, 1, 1], [2, 1, 3], [1, 3, 1], [0, 2, 1]]) {
      await assertIdenticalToCpu(`tile ${reps}`, [y], (t) => tf.tile(t, reps));
    }
    await assertIdenticalToCpu("zerosLike", [y], (t) => tf.zerosLike(t));
    await assertIdenticalToCpu("onesLike", [y], (t) => tf.onesLike(t));
    await assertIdenticalToCpu(
      "broadcastTo",
      [operand(rng, [1, 6, 1])],
      (t) => tf.broadcastTo(t, [4, 6, 3]),
    );
    for (const [name, op] of [["neg", tf.neg], ["square", tf.square], ["sqrt", tf.sqrt]] as const) {
      await assertIdenticalToCpu(name, [y], (t) => op(t));
      await assertIdenticalToCpu(`${name} specials`, [{
        values: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-45, 3e38, -2.5]),
        shape: [8],
      }], (t) => op(t));
    }
  },
});

Deno.test({
  name: "initBackend: auto and blas set up the blas backend when OpenBLAS loads",
  ignore,
  async fn() {
    assert.equal(await initBackend("auto"), "blas");
    assert.equal(tf.getBackend(), "blas");
    assert.equal(await initBackend("blas"), "blas");
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2]));
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
    y.dispose();
  },
});

Deno.test({
  name: "LLGAE training step: loss and gradients on blas match cpu (K=11, E=20, T=5, λ=1)",
  ignore,
  async fn() {
    const [K, D, E, B] = [11, 784, 20, 36];
    const rng = new Rng(14);
    const scaled = (shape: number[], s: number) => {
      const t = operand(rng, shape);
      t.values = t.values.map((v) => v * s);
      return t;
    };
    const inputs = [scaled([K, D], 30), scaled([K, D, E], 0.05), scaled([B, D], 100)];
    const encoder = { steps: 5, beta: 0.01, latentDecay: 1 };
    // Values and gradients of the model's fast formulation (the one training uses).
    await assertSameAsCpu(
      "llgae step",
      inputs,
      (mu, W, x) => {
        const { value, grads } = tf.valueAndGrads((m: tf.Tensor, w: tf.Tensor) =>
          forward({ mu: m as tf.Tensor2D, W: w as tf.Tensor3D }, x as tf.Tensor2D, encoder).loss
        )([mu, W]);
        return [value, ...grads];
      },
      1e-5,
      true,
    );
  },
});

Deno.test({
  name: "blas output pool: training with and without pooling gives bit-identical parameters",
  ignore,
  async fn() {
    registerBlasBackend(openBlas({ threads: 2 }), "blas-unpooled", { pooled: false });
    const rng = new Rng(15);
    const [K, D, E, B] = [4, 64, 5, 30];
    const data = [operand(rng, [K, D]), operand(rng, [K, D, E]), operand(rng, [B, D])];
    data[2].values = data[2].values.map((v) => v * 100);
    const train = async (backend: string) => {
      await tf.setBackend(backend);
      const mu = tf.variable(tf.tensor2d(data[0].values, [K, D]));
      const W = tf.variable(tf.tensor3d(data[1].values, [K, D, E]));
      const x = tf.tensor2d(data[2].values, [B, D]);
      const optimizer = tf.train.rmsprop(1e-3);
      const params = { mu: mu as unknown as tf.Tensor2D, W: W as unknown as tf.Tensor3D };
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const loss = optimizer.minimize(
          () => forward(params, x, { steps: 5, beta: 0.01, latentDecay: 1 }).loss,
          true,
        )!;
        losses.push(loss.dataSync()[0]); // read out: this array must never be reused
        loss.dispose();
      }
      const out = [mu.dataSync().slice(), W.dataSync().slice(), Float32Array.from(losses)];
      tf.dispose([mu, W, x]);
      optimizer.dispose();
      return out;
    };
    const pooled = await train("blas");
    const unpooled = await train("blas-unpooled");
    for (let i = 0; i < pooled.length; i++) assert.deepEqual(pooled[i], unpooled[i]);
  },
});

Deno.test({
  name: "blas output pool: arrays read out or viewed by another tensor are never reused",
  ignore,
  async fn() {
    await tf.setBackend("blas");
    const a = tf.tensor1d([1, 2, 3, 4]);
    const sum = tf.add(a, a); // a pooled output
    const read = sum.dataSync();
    const doubled = tf.add(a, a); // another pooled output…
    const view = tf.slice(doubled, [0], [2]); // …and a zero-copy view of it
    doubled.dispose();
    const viewed = [2, 4];
    sum.dispose();
    for (let i = 0; i < 20; i++) tf.dispose(tf.mul(tf.sub(a, 10), 3)); // churn the pool
    assert.deepEqual(Array.from(read), [2, 4, 6, 8]);
    assert.deepEqual(Array.from(view.dataSync()), viewed);
    tf.dispose([a, view]);
  },
});

/** One variable's optimizer under test: applies a gradient, reports its slots. */
interface Updater {
  apply(gradient: tf.Tensor): void;
  slots(): Promise<Float32Array[]>;
  dispose(): void;
}

/** A tfjs optimizer as an {@link Updater} of the variable named `rmsprop_v`. */
function optimizerUpdater(optimizer: tf.Optimizer): Updater {
  return {
    apply: (gradient) => optimizer.applyGradients({ rmsprop_v: gradient }),
    async slots() {
      const weights = await optimizer.getWeights();
      tf.dispose(weights[0].tensor); // the iteration count is a fresh scalar
      return weights.slice(1).map((w) => w.tensor.dataSync().slice() as Float32Array);
    },
    dispose: () => optimizer.dispose(),
  };
}

/**
 * The reference: PyTorch's RMSprop written out in tfjs ops, ms′ = ms·ρ + g²·(1 − ρ),
 * m′ = m·momentum + g·lr / (√ms′ + ε), v′ = v − m′ (slots in tfjs's order: ms, then m).
 */
function pytorchReference(v: tf.Variable, lr: number, rho: number, momentum: number): Updater {
  const ms = tf.zerosLike(v).variable(false), m = tf.zerosLike(v).variable(false);
  return {
    apply: (g) =>
      tf.tidy(() => {
        const ms2 = tf.add(tf.mul(ms, rho), tf.mul(tf.square(g), 1 - rho));
        const m2 = tf.add(tf.mul(m, momentum), tf.div(tf.mul(g, lr), tf.add(tf.sqrt(ms2), 1e-8)));
        ms.assign(ms2);
        m.assign(m2);
        v.assign(tf.sub(v, m2));
      }),
    slots: () => Promise.resolve([ms, m].map((t) => t.dataSync().slice() as Float32Array)),
    dispose: () => tf.dispose([ms, m]),
  };
}

/**
 * Applies 8 seeded gradients (tiny ones among them, so that the mean square is of the order of
 * ε and the two formulas differ) to a variable on `backend`; returns the value and the slots
 * after each step.
 */
async function rmspropTrajectory(
  backend: string,
  makeUpdater: (v: tf.Variable) => Updater,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const rng = new Rng(16);
  const shape = [3, 41];
  const value = tf.variable(tf.tensor(randomValues(rng, 123), shape), true, "rmsprop_v");
  const updater = makeUpdater(value);
  const out: Float32Array[] = [];
  for (let step = 0; step < 8; step++) {
    const scale = step % 2 === 0 ? 1e-5 : 0.3;
    const gradient = tf.tensor(randomValues(rng, 123).map((g) => g * scale), shape);
    updater.apply(gradient);
    gradient.dispose();
    out.push(value.dataSync().slice() as Float32Array, ...await updater.slots());
  }
  updater.dispose();
  value.dispose();
  return out;
}

Deno.test({
  name: "blas fused RMSprop: values and slots bit-identical to the cpu backend's tfjs ops, " +
    "PyTorch's formula and tfjs's, with and without momentum",
  ignore,
  async fn() {
    for (const momentum of [0, 0.5]) {
      const options = { learningRate: 3e-3, decay: 0.99, momentum, epsilon: 1e-8 };
      const pytorch = () => optimizerUpdater(new Rmsprop({ ...options, formula: "pytorch" }));
      const reference = await rmspropTrajectory(
        "cpu",
        (v) => pytorchReference(v, 3e-3, 0.99, momentum),
      );
      const fused = await rmspropTrajectory("blas", pytorch);
      const unfused = await rmspropTrajectory("cpu", pytorch); // the ops path of other backends
      const tfjsFused = await rmspropTrajectory(
        "blas",
        () => optimizerUpdater(new Rmsprop({ ...options, formula: "tfjs" })),
      );
      const tfjsReference = await rmspropTrajectory(
        "cpu",
        () => optimizerUpdater(tf.train.rmsprop(3e-3, 0.99, momentum, 1e-8)),
      );
      assert.equal(fused.length, 8 * 3); // value, mean square, moment after each of 8 steps
      for (let i = 0; i < fused.length; i++) {
        assert.deepEqual(fused[i], reference[i], `pytorch, momentum ${momentum}, tensor ${i}`);
        assert.deepEqual(
          unfused[i],
          reference[i],
          `pytorch ops, momentum ${momentum}, tensor ${i}`,
        );
        assert.deepEqual(tfjsFused[i], tfjsReference[i], `tfjs, momentum ${momentum}, tensor ${i}`);
      }
      // The formulas differ where the mean square is of the order of ε (the first step).
      assert.notDeepEqual(fused[0], tfjsFused[0]);
    }
  },
});
