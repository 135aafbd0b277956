/**
 * Garbage collection: keeps the objects referenced by a lock file (configs' `*.lock.json`
 * under `configs/`, experiments' locks and machine-local locks), removes every other object,
 * the traces and logs that pointed at removed objects, published dirs of names without a lock,
 * and resume state.
 *
 * @module
 */
import { join } from "node:path";
import type { LockFile } from "./lockfile.ts";
import { readLock } from "./lockfile.ts";
import type { Layout } from "./layout.ts";
import type { ObjectStore } from "./objects.ts";
import { listTraceKeys, readTrace } from "./trace.ts";
import { dirEntries } from "../../common/dir_entries.ts";

/** What `gc` removed. */
export interface GcReport {
  objects: number;
  bytes: number;
  traces: number;
  /** Names under `artifacts/out/` removed. */
  outDirs: string[];
  /** Lock files whose objects were kept. */
  locks: string[];
}

/** Every `*.lock.json` under `dir` (recursively). */
async function findLocks(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await dirEntries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await findLocks(path));
    else if (e.name.endsWith(".lock.json")) out.push(path);
  }
  return out;
}

/** Runs gc on the project; the caller holds the repo lock exclusively (no run is active). */
export async function collectGarbage(layout: Layout, store: ObjectStore): Promise<GcReport> {
  const locks = [
    ...await findLocks(join(layout.root, "configs")),
    ...await findLocks(layout.experiments),
    ...await findLocks(join(layout.artifacts, "locks")), // machine-local locks (cli/lock_travel.ts)
  ];
  const live = new Set<string>();
  const names = new Set<string>();
  for (const path of locks) {
    const lock: LockFile | undefined = await readLock(path);
    if (!lock) continue;
    names.add(path.split("/").pop()!.replace(/\.lock\.json$/, ""));
    for (const stage of Object.values(lock.stages)) {
      Object.values(stage.outputs).forEach((d) => live.add(d));
    }
  }

  const outDirs: string[] = [];
  for (const e of await dirEntries(layout.out)) {
    if (!names.has(e.name)) {
      outDirs.push(e.name);
      await Deno.remove(join(layout.out, e.name), { recursive: true });
    }
  }

  let objects = 0;
  let bytes = 0;
  for await (const { digest, size } of store.list()) {
    if (live.has(digest)) continue;
    await store.remove(digest);
    objects++;
    bytes += size;
  }

  let traces = 0;
  for (const key of await listTraceKeys(layout.cache)) {
    const trace = await readTrace(layout.cache, key);
    if (trace && Object.values(trace.outputs).every((d) => live.has(d))) continue;
    await Deno.remove(join(layout.cache, `${key}.json`));
    await Deno.remove(join(layout.logs, `${key}.log`)).catch(() => {});
    traces++;
  }

  bytes += await dirBytes(layout.state);
  await Deno.remove(layout.state, { recursive: true }).catch(() => {});
  await Deno.remove(layout.tmp, { recursive: true }).catch(() => {});
  await Deno.remove(layout.keyLocks, { recursive: true }).catch(() => {});
  await store.flush();
  return { objects, bytes, traces, outDirs, locks };
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await dirEntries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) total += await dirBytes(path);
    else total += (await Deno.stat(path)).size;
  }
  return total;
}
