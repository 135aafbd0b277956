/**
 * An OS advisory lock (flock) on one file, released by the OS when the holder exits or is
 * killed, so a crash never leaves a lock that blocks the next run. An exclusive holder writes
 * who it is into the file; a process that has to wait is told who holds it.
 *
 * @module
 */
import { hostname } from "node:os";

/** Who holds a lock, written into the lock file by an exclusive holder. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** How to take a lock. */
export interface LockFileOptions {
  /** Exclusive (one holder) or shared (many holders, no exclusive one). */
  exclusive: boolean;
  /** Recorded in the file by an exclusive holder (e.g. `pipeline run configs/x.yaml`). */
  command: string;
  /** Called once, with the holder when known, if the lock is not free within `noticeMs`. */
  onWait?: (holder: LockHolder | undefined) => void;
  /** How long to wait before calling `onWait`; default 200 ms. */
  noticeMs?: number;
}

/** Takes the lock on `path` (creating the file), waiting as long as needed. */
export async function lockFile(path: string, o: LockFileOptions): Promise<Disposable> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const locked = file.lock(o.exclusive);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = await Promise.race([
    locked.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), o.noticeMs ?? 200)),
  ]);
  clearTimeout(timer);
  if (waited) {
    o.onWait?.(await readHolder(path));
    await locked;
  }
  if (o.exclusive) {
    const holder: LockHolder = {
      pid: Deno.pid,
      host: hostname(),
      command: o.command,
      since: new Date().toISOString(),
    };
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
  }
  return {
    [Symbol.dispose]() {
      if (o.exclusive) file.truncateSync(0);
      file.unlockSync();
      file.close();
    },
  };
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/** "pid 123 on host (pipeline run …) since …" */
export function describeHolder(h: LockHolder | undefined): string {
  return h ? `pid ${h.pid} on ${h.host} (${h.command}) since ${h.since}` : "another process";
}
