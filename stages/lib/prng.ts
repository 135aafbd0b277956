/**
 * The one source of randomness in the research code: xoroshiro128+ from `pure-rand`, a named,
 * portable generator that gives the same stream on every machine for the same seed.
 * Never use `Math.random` or unseeded tfjs randomness in stages.
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";

/** A seeded random stream. */
export class Rng {
  #gen: ReturnType<typeof xoroshiro128plus>;

  /** Seeds xoroshiro128+ with a 32-bit integer seed. */
  constructor(seed: number) {
    this.#gen = xoroshiro128plus(seed | 0);
  }

  /** A uniform integer in [min, max] (both inclusive), without modulo bias. */
  int(min: number, max: number): number {
    return uniformInt(this.#gen, min, max);
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  float(): number {
    return (this.#gen.next() >>> 0) / 4294967296;
  }

  /** The Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
