/**
 * One lock per cache key, so that runs sharing an `artifacts/` dir (in one process, like the
 * experiments of a sweep, or in several) compute every key once: whoever needs a key that is
 * being computed waits for it, then finds its result in the cache. Across processes the lock is
 * an OS file lock on `artifacts/keylocks/<key>.lock` (released by the OS if the holder dies);
 * within a process, waiters queue on a promise so that a key takes one file lock at a time.
 *
 * Holding a key's lock also owns its scratch (`artifacts/tmp/<key>/`) and resume state
 * (`artifacts/state/<key>/`): what a taker finds in its scratch is debris of a dead holder.
 *
 * @module
 */
import { join } from "node:path";
import { describeHolder, lockFile } from "./file_lock.ts";

/** Who is computing a key, as told to a waiter. */
export interface KeyWait {
  /** The lock file waited for. */
  path: string;
  /** "pid 123 on host (pipeline …) since …", or "another experiment of this run". */
  holder: string;
}

/** The per-key locks of one `artifacts/` dir. */
export class KeyLocks {
  readonly #dir: string;
  readonly #command: string;
  readonly #local = new Map<string, Promise<void>>();

  /** `dir` is `artifacts/keylocks`; `command` is recorded for waiting processes to read. */
  constructor(o: { dir: string; command: string }) {
    this.#dir = o.dir;
    this.#command = o.command;
  }

  /** The lock file of `key`. */
  pathOf(key: string): string {
    return join(this.#dir, `${key}.lock`);
  }

  /**
   * Takes `key`'s lock, waiting while another holder (in this process or another) has it;
   * `onWait` is called once if it must wait. Dispose the result to release it.
   */
  async acquire(key: string, onWait: (w: KeyWait) => void): Promise<Disposable> {
    const path = this.pathOf(key);
    const before = this.#local.get(key);
    let releaseLocal!: () => void;
    const mine = new Promise<void>((r) => releaseLocal = r);
    const queue = (before ?? Promise.resolve()).then(() => mine);
    this.#local.set(key, queue);
    const done = () => {
      releaseLocal();
      if (this.#local.get(key) === queue) this.#local.delete(key);
    };
    try {
      if (before) {
        onWait({ path, holder: "another experiment of this run" });
        await before;
      }
      await Deno.mkdir(this.#dir, { recursive: true });
      const held = await lockFile(path, {
        exclusive: true,
        command: this.#command,
        onWait: (h) => onWait({ path, holder: describeHolder(h) }),
      });
      return {
        [Symbol.dispose]() {
          held[Symbol.dispose]();
          done();
        },
      };
    } catch (e) {
      done();
      throw e;
    }
  }
}
