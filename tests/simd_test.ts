import * as assert from "node:assert/strict";
import { SimdArena } from "../stages/lib/simd/simd.ts";
import { compileKernels } from "../stages/lib/simd/build.ts";
import { KERNELS_WASM_BASE64 } from "../stages/lib/simd/kernels_wasm.ts";
import { Buffer } from "node:buffer";
import { Rng } from "../stages/lib/prng.ts";

const f = Math.fround;

/** RMSprop on one element, each float32 operation rounded in PyTorch's order. */
function scalarRmsprop(
  v: number,
  g: number,
  ms: number,
  { lr, rho, eps, formula }: { lr: number; rho: number; eps: number; formula: string },
): [number, number] {
  const ms1 = f(f(ms * f(rho)) + f(f(f(1 - rho) * g) * g));
  const root = formula === "pytorch"
    ? f(f(Math.sqrt(ms1)) + f(eps))
    : f(Math.sqrt(f(ms1 + f(eps))));
  return [f(v + f(f(-lr) * f(g / root))), ms1];
}

for (const formula of ["pytorch", "tfjs"] as const) {
  Deno.test(`SimdArena.rmsprop (${formula}): every lane and the scalar tail round as float32 does`, () => {
    const rng = new Rng(5);
    const settings = { lr: 1e-3, rho: 0.99, eps: 1e-8, formula };
    for (const n of [0, 1, 3, 4, 5, 9, 1031]) {
      const arena = new SimdArena([n, n, n]);
      const [value, gradient, meanSquare] = [arena.floats(n), arena.floats(n), arena.floats(n)];
      for (let i = 0; i < n; i++) {
        value[i] = rng.float() * 2 - 1;
        gradient[i] = (rng.float() - 0.5) * 10 ** -Math.floor(rng.float() * 6);
        meanSquare[i] = i % 7 === 0 ? 0 : rng.float() * 1e-4;
      }
      const expected = Array.from(
        value,
        (v, i) => scalarRmsprop(v, gradient[i], meanSquare[i], settings),
      );
      arena.rmsprop(
        { value, gradient, meanSquare },
        { learningRate: settings.lr, decay: settings.rho, epsilon: settings.eps, formula },
      );
      assert.deepEqual(Array.from(value), expected.map((e) => e[0]), `values, n = ${n}`);
      assert.deepEqual(Array.from(meanSquare), expected.map((e) => e[1]), `means, n = ${n}`);
    }
  });
}

Deno.test("SimdArena: arrays are 16-byte aligned views of its memory; overflow and foreign arrays are errors", () => {
  const arena = new SimdArena([3, 5]);
  const a = arena.floats(3), b = arena.floats(5);
  assert.equal(a.byteOffset % 16, 0);
  assert.equal(b.byteOffset % 16, 0);
  assert.equal(a.buffer, b.buffer);
  assert.throws(() => arena.floats(1), /1 more floats do not fit in 48 bytes/);
  const settings = { learningRate: 1e-3, decay: 0.99, epsilon: 1e-8, formula: "pytorch" as const };
  assert.throws(
    () => arena.rmsprop({ value: a, gradient: new Float32Array(3), meanSquare: a }, settings),
    /an array outside the arena \(allocate it with floats\(\)\)/,
  );
  assert.throws(
    () => arena.rmsprop({ value: b, gradient: a, meanSquare: b }, settings),
    /arrays of 5 and 3 floats \(one length needed\)/,
  );
});

Deno.test("the committed kernel binary is the compile of the kernels' text (else: deno task simd)", async () => {
  assert.deepEqual(
    new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, "base64")),
    await compileKernels(),
    "stages/lib/simd/kernels_wasm.ts is stale: run `npx -y deno@2.9.6 task simd`",
  );
});
