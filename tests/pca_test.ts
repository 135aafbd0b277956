import { ok, strictEqual } from "node:assert/strict";
import { principalSubspace } from "../stages/lib/pca.ts";
import { initBackend } from "../stages/lib/tf_backend.ts";
import { Rng } from "../stages/lib/prng.ts";

await initBackend("wasm");

/** n points in d dims: mean + Σ_j s_j z_j r_j with known orthonormal rows r_j (a rotation). */
function synthetic(n: number, d: number, scales: number[], seed: number) {
  const rng = new Rng(seed);
  // Rotation: Gram–Schmidt of random vectors.
  const r: number[][] = [];
  for (let j = 0; j < d; j++) {
    let v = Array.from({ length: d }, () => rng.float() - 0.5);
    for (const u of r) {
      const dot = v.reduce((s, x, i) => s + x * u[i], 0);
      v = v.map((x, i) => x - dot * u[i]);
    }
    const norm = Math.hypot(...v);
    r.push(v.map((x) => x / norm));
  }
  const mean = Array.from({ length: d }, (_, i) => 10 * i - 3);
  const x = new Float32Array(n * d);
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < d; j++) {
      // Uniform on [-√3, √3] has unit variance.
      const z = (rng.float() * 2 - 1) * Math.sqrt(3) * scales[j];
      for (let i = 0; i < d; i++) x[p * d + i] += z * r[j][i];
    }
    for (let i = 0; i < d; i++) x[p * d + i] += mean[i];
  }
  return { x, r, mean };
}

Deno.test("pca: recovers known principal directions, variances and mean", () => {
  const n = 4000, d = 12, scales = [9, 6, 4, 3, 2, 1, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
  const { x, r, mean } = synthetic(n, d, scales, 5);
  const p = principalSubspace(x, n, d, 3, { oversample: 4 });
  for (let i = 0; i < d; i++) ok(Math.abs(p.mean[i] - mean[i]) < 0.6, `mean[${i}]`);
  for (let a = 0; a < 3; a++) {
    // Rows orthonormal.
    for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += p.components[a * d + i] * p.components[b * d + i];
      ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-5, `row ${a}·row ${b} = ${dot}`);
    }
    // Aligned with the true direction (up to sign), variance close to s².
    let cos = 0;
    for (let i = 0; i < d; i++) cos += p.components[a * d + i] * r[a][i];
    ok(Math.abs(Math.abs(cos) - 1) < 1e-2, `direction ${a}: |cos| = ${Math.abs(cos)}`);
    const rel = Math.abs(p.variances[a] - scales[a] ** 2) / scales[a] ** 2;
    ok(rel < 0.1, `variance ${a}: ${p.variances[a]} vs ${scales[a] ** 2}`);
  }
  ok(p.variances[0] > p.variances[1] && p.variances[1] > p.variances[2]);
});

Deno.test("pca: variances equal the sample covariance's top eigenvalues (trace check with e = d)", () => {
  const n = 500, d = 8;
  const { x } = synthetic(n, d, [5, 4, 3, 2, 1.5, 1, 0.5, 0.25], 9);
  const p = principalSubspace(x, n, d, d);
  let trace = 0;
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let q = 0; q < n; q++) s += (x[q * d + i] - p.mean[i]) ** 2;
    trace += s / n;
  }
  const total = p.variances.reduce((a, b) => a + b, 0);
  ok(Math.abs(total - trace) / trace < 1e-4, `sum of variances ${total} vs trace ${trace}`);
});

Deno.test("pca: same seed gives bit-identical components", () => {
  const { x } = synthetic(300, 10, [4, 3, 2, 1, 1, 1, 1, 1, 1, 1], 3);
  const a = principalSubspace(x, 300, 10, 2, { seed: 7 });
  const b = principalSubspace(x, 300, 10, 2, { seed: 7 });
  strictEqual(Array.from(a.components).join(), Array.from(b.components).join());
});

Deno.test("pca: bad shapes are clear errors", () => {
  let message = "";
  try {
    principalSubspace(new Float32Array(10), 3, 4, 2);
  } catch (e) {
    message = (e as Error).message;
  }
  ok(message.includes("10 values, expected 3×4"), message);
});

Deno.test("pca: the rows option gives the PCA of just those rows", () => {
  const n = 600, d = 10;
  const { x } = synthetic(n, d, [6, 4, 3, 2, 1, 1, 0.5, 0.5, 0.2, 0.1], 12);
  const rows = Int32Array.from({ length: 200 }, (_, i) => 3 * i + 1);
  const picked = new Float32Array(rows.length * d);
  rows.forEach((i, r) => picked.set(x.subarray(i * d, (i + 1) * d), r * d));
  const a = principalSubspace(x, n, d, 3, { rows, seed: 4 });
  const b = principalSubspace(picked, rows.length, d, 3, { seed: 4 });
  for (let i = 0; i < d * 3; i++) {
    ok(Math.abs(a.components[i] - b.components[i]) < 1e-5, `component value ${i}`);
  }
  for (let i = 0; i < d; i++) ok(Math.abs(a.mean[i] - b.mean[i]) < 1e-4, `mean[${i}]`);
});

Deno.test("pca: starting from the answer converges sooner to the same directions", () => {
  const n = 3000, d = 40;
  const scales = Array.from({ length: d }, (_, i) => 10 / (1 + i) ** 0.3);
  const { x } = synthetic(n, d, scales, 13);
  const cold = principalSubspace(x, n, d, 5, { seed: 1 });
  const warm = principalSubspace(x, n, d, 5, { seed: 2, start: cold.components });
  ok(warm.iterations < cold.iterations, `${warm.iterations} vs ${cold.iterations} iterations`);
  for (let a = 0; a < 5; a++) {
    let cos = 0;
    for (let i = 0; i < d; i++) cos += warm.components[a * d + i] * cold.components[a * d + i];
    ok(Math.abs(cos - 1) < 1e-6, `direction ${a}: cos ${cos}`);
  }
});
