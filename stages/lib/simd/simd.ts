/**
 * SIMD kernels for the elementwise work around the matrix products, in WebAssembly (its 128-bit
 * SIMD, which every current V8 runs): written as text in `kernels_wat.ts`, compiled by wabt into
 * `kernels_wasm.ts` (`deno task simd`; a test checks the two agree). A {@link SimdArena} is a
 * fixed block of WebAssembly memory that the arrays a kernel works on are allocated from, so
 * JavaScript, OpenBLAS (through FFI) and the kernels all read and write the same floats.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { KERNELS_WASM_BASE64 } from "./kernels_wasm.ts";

const KERNELS = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, "base64"));

const PAGE = 65536;
const ALIGN = 16;

interface Exports {
  rmsprop(
    v: number,
    g: number,
    ms: number,
    n: number,
    lr: number,
    rho: number,
    keep: number,
    inside: number,
    outside: number,
  ): void;
}

/** RMSprop's settings for {@link SimdArena.rmsprop}. */
export interface RmspropSettings {
  learningRate: number;
  /** ρ, the smoothing of the running mean of g². */
  decay: number;
  /** ε. */
  epsilon: number;
  /** `pytorch`: ε added to √ms′; `tfjs`: ε added to ms′ under the root. */
  formula: "pytorch" | "tfjs";
}

/**
 * A fixed block of WebAssembly memory for float32 arrays (never grown, so views stay valid) and
 * the kernels that work on them.
 */
export class SimdArena {
  readonly #memory: WebAssembly.Memory;
  readonly #kernels: Exports;
  readonly #bytes: number;
  #used = 0;

  /** Room for arrays of `lengths` floats (each aligned to 16 bytes). */
  constructor(lengths: number[]) {
    this.#bytes = lengths.reduce((sum, n) => sum + Math.ceil(n * 4 / ALIGN) * ALIGN, 0);
    const pages = Math.max(1, Math.ceil(this.#bytes / PAGE));
    this.#memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(KERNELS, { env: { memory: this.#memory } });
    this.#kernels = instance.exports as unknown as Exports;
  }

  /** A zeroed array of `n` floats in the arena. */
  floats(n: number): Float32Array {
    const bytes = Math.ceil(n * 4 / ALIGN) * ALIGN;
    if (this.#used + bytes > this.#bytes) {
      throw new RangeError(`SimdArena: ${n} more floats do not fit in ${this.#bytes} bytes`);
    }
    const out = new Float32Array(this.#memory.buffer, this.#used, n);
    this.#used += bytes;
    return out;
  }

  /**
   * RMSprop in place, in float32 as PyTorch computes it: ms′ = ms·ρ + ((1 − ρ)·g)·g, then
   * v′ = v − lr·(g / (√ms′ + ε)) (`pytorch`) or v − lr·(g / √(ms′ + ε)) (`tfjs`). `value`,
   * `gradient` and `meanSquare` are arrays of this arena of one length.
   */
  rmsprop(
    { value, gradient, meanSquare }: {
      value: Float32Array;
      gradient: Float32Array;
      meanSquare: Float32Array;
    },
    { learningRate, decay, epsilon, formula }: RmspropSettings,
  ): void {
    for (const a of [value, gradient, meanSquare]) this.#check(a, value.length);
    const [inside, outside] = formula === "pytorch" ? [0, epsilon] : [epsilon, 0];
    this.#kernels.rmsprop(
      value.byteOffset,
      gradient.byteOffset,
      meanSquare.byteOffset,
      value.length,
      learningRate,
      decay,
      1 - decay,
      inside,
      outside,
    );
  }

  #check(a: Float32Array, n: number): void {
    if (a.buffer !== this.#memory.buffer) {
      throw new RangeError("SimdArena: an array outside the arena (allocate it with floats())");
    }
    if (a.length !== n) {
      throw new RangeError(`SimdArena: arrays of ${n} and ${a.length} floats (one length needed)`);
    }
  }
}
