/**
 * Garbage collection: keeps the objects referenced by a lock file (configs' `*.lock.json`
 * under `configs/`, experiments' locks and machine-local locks), removes every other object,
 * the traces and logs that pointed at removed objects, published dirs of names without a lock,
 * and resume state.
 *
 * `planGarbage` decides what would go without touching anything (`gc --dry-run`), and refuses
 * (`GcRefused`, naming the file) when a lock file or an experiment record cannot be read: a
 * lock that does not parse would otherwise protect nothing and gc would delete the results it
 * should keep. `removeGarbage` deletes what a plan lists.
 *
 * @module
 */
import { join, relative } from "node:path";
import type { Layout } from "./layout.ts";
import { allLockFiles, readLockState } from "./lockfile.ts";
import type { ObjectStore } from "./objects.ts";
import { readStateFile } from "./state_file.ts";
import { experimentSchema } from "./state_schemas.ts";
import { listTraceKeys, readTrace } from "./trace.ts";
import { dirEntries } from "../../common/dir_entries.ts";

/** A lock file or experiment record gc cannot read: it refuses to guess what is live. */
export class GcRefused extends Error {
  constructor(readonly path: string, problem: string) {
    super(
      `gc: refusing to run: ${path} ${problem}, so what it references cannot be kept; ` +
        `restore it (git checkout, or rerun its config/experiment) or delete it, then rerun gc`,
    );
    this.name = "GcRefused";
  }
}

/** What `gc` would remove (and has removed, once `removeGarbage` ran). */
export interface GcPlan {
  objects: { digest: string; size: number }[];
  /** Trace keys. */
  traces: string[];
  /** Names under `artifacts/out/` with no lock file. */
  outDirs: string[];
  /** Bytes of resumable state (`artifacts/state/`), all of which goes. */
  stateBytes: number;
  /** Lock files whose objects are kept. */
  locks: string[];
}

/** Bytes a plan frees: its objects and the resume state. */
export function planBytes(plan: GcPlan): number {
  return plan.objects.reduce((n, o) => n + o.size, 0) + plan.stateBytes;
}

/** Throws GcRefused unless every experiment record reads. */
async function checkExperimentRecords(layout: Layout): Promise<void> {
  for (const e of await dirEntries(layout.experiments)) {
    if (!e.name.endsWith(".json") || e.name.endsWith(".lock.json")) continue;
    const r = await readStateFile(join(layout.experiments, e.name), experimentSchema);
    if (r.state === "bad") {
      throw new GcRefused(relative(layout.root, r.path), `is malformed (${r.problem})`);
    }
  }
}

/** Decides what gc removes; changes nothing. Throws GcRefused on an unreadable lock/record. */
export async function planGarbage(layout: Layout, store: ObjectStore): Promise<GcPlan> {
  const locks = await allLockFiles(layout);
  await checkExperimentRecords(layout);
  const live = new Set<string>();
  const names = new Set<string>();
  for (const path of locks) {
    const r = await readLockState(path);
    if (r.state === "bad") {
      throw new GcRefused(relative(layout.root, path), `is malformed (${r.problem})`);
    }
    if (r.state === "absent") continue;
    names.add(path.split("/").pop()!.replace(/\.lock\.json$/, ""));
    for (const stage of Object.values(r.value.stages)) {
      Object.values(stage.outputs).forEach((d) => live.add(d));
    }
  }
  const outDirs = (await dirEntries(layout.out)).map((e) => e.name).filter((n) => !names.has(n));
  const objects: GcPlan["objects"] = [];
  for await (const o of store.list()) if (!live.has(o.digest)) objects.push(o);
  const traces: string[] = [];
  for (const key of await listTraceKeys(layout.cache)) {
    const trace = await readTrace(layout.cache, key);
    if (!trace || !Object.values(trace.outputs).every((d) => live.has(d))) traces.push(key);
  }
  return { objects, traces, outDirs, stateBytes: await dirBytes(layout.state), locks };
}

/** Removes what `plan` lists, the resume state and run scratch; the caller holds the repo lock. */
export async function removeGarbage(layout: Layout, store: ObjectStore, plan: GcPlan) {
  for (const name of plan.outDirs) {
    await Deno.remove(join(layout.out, name), { recursive: true });
  }
  for (const { digest } of plan.objects) await store.remove(digest);
  for (const key of plan.traces) {
    await Deno.remove(join(layout.cache, `${key}.json`));
    await Deno.remove(join(layout.logs, `${key}.log`)).catch(() => {});
  }
  await Deno.remove(layout.state, { recursive: true }).catch(() => {});
  await Deno.remove(layout.tmp, { recursive: true }).catch(() => {});
  await store.flush();
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
