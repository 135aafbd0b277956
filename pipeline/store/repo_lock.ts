/**
 * One writer at a time on an `artifacts/` dir: an exclusive OS file lock (flock) on
 * `artifacts/lock`, released by the OS even when the holder crashes. A second run waits and
 * says who holds the lock (pid, host, command, since when).
 *
 * @module
 */
import { join } from "node:path";
import { hostname } from "node:os";

/** Who holds the lock, written into the lock file by the holder. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** Takes the lock, waiting as long as needed; `onWait` is told who holds it if it must wait. */
export async function acquireRepoLock(
  artifactsDir: string,
  command: string,
  onWait: (holder: LockHolder | undefined) => void,
): Promise<Disposable> {
  await Deno.mkdir(artifactsDir, { recursive: true });
  const path = join(artifactsDir, "lock");
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const locked = file.lock(true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = await Promise.race([
    locked.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), 200)),
  ]);
  clearTimeout(timer);
  if (waited) {
    onWait(await readHolder(path));
    await locked;
  }
  const holder: LockHolder = {
    pid: Deno.pid,
    host: hostname(),
    command,
    since: new Date().toISOString(),
  };
  await file.truncate(0);
  await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
  return {
    [Symbol.dispose]() {
      file.truncateSync(0);
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

/** "pid 123 on host (deno task pipeline run …) since …" */
export function describeHolder(h: LockHolder | undefined): string {
  return h ? `pid ${h.pid} on ${h.host} (${h.command}) since ${h.since}` : "another process";
}
