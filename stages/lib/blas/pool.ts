/**
 * Reuses float32 output arrays between kernels. A fresh typed array costs a zero fill, page
 * faults and, later, garbage collection; a training step allocates hundreds of large ones.
 * An array goes back to the pool only when it provably has no other holder: it was taken
 * from the pool, written into exactly one tensor, that tensor's data was freed, and it never
 * escaped (read out with `dataSync`/`data`, or shared by a view or a second tensor).
 *
 * @module
 */
import type { backend_util, DataType } from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";

type State = "taken" | "bound" | "escaped";

/** Free float32 arrays by length, and the ownership state of every array handed out. */
export class BufferPool {
  #free = new Map<number, Float32Array[]>();
  #state = new WeakMap<ArrayBufferLike, State>();
  #bytes = 0;

  /** Keeps at most `maxBytes` of free arrays and `perLength` arrays of one length. */
  constructor(readonly maxBytes = 512 * 2 ** 20, readonly perLength = 128) {}

  /** An array of `n` elements with arbitrary contents: the caller must write every element. */
  take(n: number): Float32Array {
    const out = this.#free.get(n)?.pop();
    if (out) this.#bytes -= out.byteLength;
    const array = out ?? new Float32Array(n);
    this.#state.set(array.buffer, "taken");
    return array;
  }

  /** Records that `values` now backs a tensor; a second holder makes it escape. */
  bind(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const state = this.#state.get(values.buffer);
    if (state === undefined) return;
    const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
    this.#state.set(values.buffer, state === "taken" && whole ? "bound" : "escaped");
  }

  /** Records that `values` left the backend's control (read out by a caller). */
  escape(values: unknown): void {
    if (values instanceof Float32Array && this.#state.has(values.buffer)) {
      this.#state.set(values.buffer, "escaped");
    }
  }

  /** Takes back the values of freed tensor data when nothing else can hold them. */
  release(values: unknown): void {
    if (!(values instanceof Float32Array) || this.#state.get(values.buffer) !== "bound") return;
    this.#state.delete(values.buffer);
    const list = this.#free.get(values.length) ?? [];
    if (list.length >= this.perLength || this.#bytes + values.byteLength > this.maxBytes) return;
    list.push(values);
    this.#free.set(values.length, list);
    this.#bytes += values.byteLength;
  }
}

/** The cpu backend with a {@link BufferPool} that its kernels take their outputs from. */
export class PooledCpuBackend extends MathBackendCPU {
  /** Output arrays for this backend's kernels. */
  readonly pool = new BufferPool();

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType) {
    this.pool.bind(values);
    return super.write(values, shape, dtype);
  }

  override readSync(dataId: object): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.pool.escape(values);
    return values;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const freed = super.disposeData(dataId, force);
    if (freed && values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return freed;
  }
}

/** A float32 output array of `n` elements: from the backend's pool when it has one. */
export function outputArray(backend: unknown, n: number): Float32Array {
  return backend instanceof PooledCpuBackend ? backend.pool.take(n) : new Float32Array(n);
}
