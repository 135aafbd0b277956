/**
 * Keeping a state the engine holds in memory (the verification memo, module graphs, the kind
 * sandbox's answers) in its file: a change marks it, {@link StateWriter.save} writes a snapshot
 * through a temp file and a rename, and writes run one at a time, so the file's last write holds
 * every change made before it. The runs of a sweep share such a state and each saves it as it
 * ends: two writes under way at once could land in the wrong order, the older snapshot last.
 *
 * @module
 */
import { dirname } from "node:path";
import { writeFileAtomic } from "../../common/atomic_write.ts";

/** Writes one state file from snapshots of a state, one write at a time. */
export class StateWriter {
  readonly #path: string;
  readonly #snapshot: () => string | Promise<string>;
  #changed = false;
  #writes: Promise<void> = Promise.resolve();

  /** `snapshot` gives the file's text for the state as it is when a write starts. */
  constructor(path: string, snapshot: () => string | Promise<string>) {
    this.#path = path;
    this.#snapshot = snapshot;
  }

  /** Marks the state changed since the last write. */
  changed(): void {
    this.#changed = true;
  }

  /** Writes the state when it changed, after any write under way; rejects when that fails. */
  save(): Promise<void> {
    const write = this.#writes.catch(() => {}).then(() => this.#write());
    this.#writes = write;
    return write;
  }

  async #write(): Promise<void> {
    if (!this.#changed) return;
    this.#changed = false;
    try {
      await Deno.mkdir(dirname(this.#path), { recursive: true });
      await writeFileAtomic(this.#path, await this.#snapshot());
    } catch (error) {
      this.#changed = true;
      throw error;
    }
  }
}
