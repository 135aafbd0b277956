/**
 * `pipeline verify` (like `git fsck`): re-hashes every object that a lock file or a trace
 * references, ignoring the verification memo, and says for each missing or corrupt object
 * which config, stage and file it belongs to. `repair` removes corrupt objects, so the next run
 * finds them missing and recomputes the stages that made them. An object that only a lock file
 * names (a committed lock of a config never run here, or after gc) is `absent`, not `missing`:
 * the store never had it, and the next run computes it. `missing` means a trace recorded it as
 * stored and it is gone.
 *
 * @module
 */
import { relative } from "node:path";
import type { Layout } from "./layout.ts";
import { allLockFiles, readLockState } from "./lockfile.ts";
import type { LocalStore, ObjectState } from "./objects.ts";
import { listTraceKeys, readTrace } from "./trace.ts";

/** Where an object is referenced: a lock file's stage output or a trace's. */
export interface ObjectRef {
  /** The lock file (relative to the root) or `trace <key>`. */
  source: string;
  stage: string;
  file: string;
}

/** An object that is not intact, with everything that references it. */
export interface BadObject {
  digest: string;
  state: Exclude<ObjectState, "ok">;
  refs: ObjectRef[];
}

/** Objects only lock files name and the store does not hold (not an error). */
export interface AbsentObjects {
  /** Lock file → how many of its objects are absent. */
  byLock: Record<string, number>;
}

/** What verify found. */
export interface VerifyReport {
  /** Distinct objects re-hashed. */
  checked: number;
  bytes: number;
  bad: BadObject[];
  absent: AbsentObjects;
  /** State files that could not be read (named, with the problem). */
  unreadable: { path: string; problem: string }[];
  /** Corrupt objects removed (`repair`). */
  removed: number;
}

/** Which references to check: the given lock files (and their keys' traces), or everything. */
export type VerifyScope = { locks: string[] } | "all";

/** Re-hashes the referenced objects; with `repair`, removes the corrupt ones. */
export async function verifyStore(
  o: { layout: Layout; store: LocalStore; scope: VerifyScope; repair?: boolean },
): Promise<VerifyReport> {
  const { layout, store } = o;
  const refs = new Map<string, ObjectRef[]>();
  const add = (digest: string, ref: ObjectRef) => {
    if (!refs.has(digest)) refs.set(digest, []);
    refs.get(digest)!.push(ref);
  };
  const unreadable: VerifyReport["unreadable"] = [];
  const locks = o.scope === "all" ? await allLockFiles(layout) : o.scope.locks;
  const keys = new Set<string>();
  for (const path of locks) {
    const r = await readLockState(path);
    if (r.state === "bad") {
      unreadable.push({ path: relative(layout.root, path), problem: r.problem });
    }
    if (r.state !== "ok") continue;
    for (const [stage, s] of Object.entries(r.value.stages)) {
      keys.add(s.key);
      for (const [file, d] of Object.entries(s.outputs)) {
        add(d, { source: relative(layout.root, path), stage, file });
      }
    }
  }
  const traceKeys = o.scope === "all" ? await listTraceKeys(layout.cache) : [...keys];
  for (const key of traceKeys) {
    const trace = await readTrace(layout.cache, key);
    for (const [file, d] of Object.entries(trace?.outputs ?? {})) {
      add(d, { source: `trace ${key.slice(0, 12)}`, stage: trace!.fingerprint.stage, file });
    }
  }
  const report: VerifyReport = {
    checked: 0,
    bytes: 0,
    bad: [],
    absent: { byLock: {} },
    unreadable,
    removed: 0,
  };
  for (const [digest, where] of refs) {
    const state = await store.verify(digest, { content: true });
    if (state !== "missing") report.checked++;
    if (state === "ok") {
      report.bytes += (await Deno.stat(store.path(digest))).size;
      continue;
    }
    if (state === "missing" && where.every((r) => !r.source.startsWith("trace "))) {
      for (const source of new Set(where.map((r) => r.source))) {
        report.absent.byLock[source] = (report.absent.byLock[source] ?? 0) + 1;
      }
      continue;
    }
    report.bad.push({ digest, state, refs: where });
    if (state === "corrupt" && o.repair) {
      await store.remove(digest);
      report.removed++;
    }
  }
  await store.flush();
  return report;
}
