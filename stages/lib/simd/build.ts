/**
 * Compiles the SIMD kernels' text (`kernels_wat.ts`) with wabt and writes the binary, base64,
 * into `kernels_wasm.ts`, which `simd.ts` loads; `tests/simd_test.ts` checks the two agree.
 * Run after editing the text: `npx -y deno@2.9.6 task simd`.
 *
 * @module
 */
import initWabt from "wabt";
import { Buffer } from "node:buffer";
import { writeFileAtomic } from "../../../common/atomic_write.ts";
import { KERNELS_WAT } from "./kernels_wat.ts";

/** The kernels' WebAssembly binary, compiled from {@link KERNELS_WAT}. */
export async function compileKernels(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const parsed = wabt.parseWat("kernels.wat", KERNELS_WAT, { simd: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

/** The text of `kernels_wasm.ts` for `binary`. */
export function kernelsModule(binary: Uint8Array): string {
  const base64 = Buffer.from(binary).toString("base64");
  const lines = base64.match(/.{1,96}/g) ?? [];
  return `/**
 * The SIMD kernels' WebAssembly binary, base64: generated from \`kernels_wat.ts\` by
 * \`npx -y deno@2.9.6 task simd\` (\`build.ts\`); do not edit.
 *
 * @module
 */

/** ${binary.length} bytes. */
export const KERNELS_WASM_BASE64 = ${lines.map((l) => JSON.stringify(l)).join(" +\n  ")};
`;
}

if (import.meta.main) {
  const target = new URL("kernels_wasm.ts", import.meta.url).pathname;
  const binary = await compileKernels();
  await writeFileAtomic(target, kernelsModule(binary));
  console.log(`wrote ${target} (${binary.length} bytes)`);
}
