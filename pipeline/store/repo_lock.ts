/**
 * The lock on a whole `artifacts/` dir, `artifacts/lock`: runs take it shared (any number run
 * at once; they coordinate per cache key, see `key_locks.ts`), `gc` takes it exclusive, since
 * it removes objects, traces and scratch that a run may be using. An OS file lock (flock),
 * released by the OS even when the holder crashes.
 *
 * @module
 */
import { join } from "node:path";
import { lockFile, type LockHolder } from "./file_lock.ts";

export { describeHolder, type LockHolder } from "./file_lock.ts";

/** How to take the repository lock. */
export interface RepoLockOptions {
  /** `shared` for runs, `exclusive` for gc. */
  mode: "shared" | "exclusive";
  /** Recorded by an exclusive holder. */
  command: string;
  /** Told who holds the lock (when known) if it must wait. */
  onWait: (holder: LockHolder | undefined) => void;
}

/** Takes the lock on `artifactsDir`, waiting as long as needed. */
export async function acquireRepoLock(
  artifactsDir: string,
  o: RepoLockOptions,
): Promise<Disposable> {
  await Deno.mkdir(artifactsDir, { recursive: true });
  return await lockFile(join(artifactsDir, "lock"), {
    exclusive: o.mode === "exclusive",
    command: o.command,
    onWait: o.onWait,
  });
}
