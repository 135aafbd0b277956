/**
 * Keeps large allocations in glibc's heap. By default glibc serves blocks above 128 KiB with
 * fresh `mmap` pages and returns them with `munmap`, so every new output array of a matrix
 * product (e.g. 360×220 float32, 310 KiB, when the caller keeps the result) faults in all its
 * pages again; in a VM a page fault can cost over 10 µs, which made `tf.matMul` take ~1 ms
 * longer than the GEMM itself. glibc raises its threshold by itself after the first such block
 * is freed, so the slowdown came and went between runs. Values computed are unaffected.
 *
 * @module
 */

const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
/** Blocks up to this size come from the heap (glibc's largest allowed threshold on 64-bit). */
const MMAP_THRESHOLD = 32 * 2 ** 20;
/** Free heap memory kept before trimming: twice the threshold, as glibc's own adjustment does. */
const TRIM_THRESHOLD = 2 * MMAP_THRESHOLD;

let tuned: boolean | undefined;

/**
 * On Linux with glibc, sets `mallopt` thresholds so blocks up to 32 MiB are reused from the heap
 * instead of mapped and unmapped each time. Process-wide, done once; returns whether it applied
 * (false on other systems or C libraries, or without FFI permission).
 */
export function keepLargeAllocationsInHeap(): boolean {
  if (tuned !== undefined) return tuned;
  tuned = false;
  if (Deno.build.os !== "linux") return tuned;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", { mallopt: { parameters: ["i32", "i32"], result: "i32" } });
  } catch {
    return tuned; // not glibc (e.g. musl) or no FFI permission: keep the defaults
  }
  tuned = libc.symbols.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) === 1 &&
    libc.symbols.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) === 1;
  return tuned;
}
