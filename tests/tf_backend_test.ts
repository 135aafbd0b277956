import * as tf from "@tensorflow/tfjs-core";
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { initBackend } from "../stages/lib/tf_backend.ts";

function square(): number[] {
  return Array.from(
    tf.tidy(() => {
      const a = tf.tensor2d([[1, 2], [3, 4]]);
      return tf.matMul(a, a);
    }).dataSync(),
  );
}

Deno.test("tf_backend: wasm and cpu start and compute the same matrix product", async () => {
  strictEqual(await initBackend("wasm"), "wasm");
  strictEqual(tf.getBackend(), "wasm");
  deepStrictEqual(square(), [7, 10, 15, 22]);
  strictEqual(await initBackend("cpu"), "cpu");
  strictEqual(tf.getBackend(), "cpu");
  deepStrictEqual(square(), [7, 10, 15, 22]);
  await initBackend("wasm"); // leave the default for other tests
});
