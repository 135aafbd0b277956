/**
 * The stable human path of a config's latest outputs: `artifacts/out/<name>/<stage>/<files>`,
 * hardlinks to store objects (copies across file systems). A stage dir is swapped in whole, so
 * a reader never sees a mix of old and new files.
 *
 * @module
 */
import { join } from "node:path";
import type { ObjectStore } from "./objects.ts";
import { dirEntries } from "../../common/dir_entries.ts";

/**
 * Makes `dir` hold exactly `outputs` (file → digest); cheap when it already does. Another
 * process may publish the same dir at the same time (two runs of one config): the one whose
 * rename loses retries, and is done as soon as the dir holds its outputs.
 */
export async function publishStageDir(
  store: ObjectStore,
  dir: string,
  outputs: Record<string, string>,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    if (await alreadyPublished(store, dir, outputs)) return;
    const fresh = `${dir}.tmp-${Deno.pid}`;
    await Deno.remove(fresh, { recursive: true }).catch(() => {});
    for (const [file, digest] of Object.entries(outputs)) {
      await store.materialize(digest, join(fresh, file));
    }
    await Deno.mkdir(fresh, { recursive: true });
    const old = `${dir}.old-${Deno.pid}`;
    const hadOld = await Deno.rename(dir, old).then(() => true, () => false);
    const placed = await Deno.rename(fresh, dir).then(() => true, (e) => {
      if (attempt >= 5) throw e;
      return false;
    });
    if (hadOld) await Deno.remove(old, { recursive: true });
    if (placed) return;
    await Deno.remove(fresh, { recursive: true }).catch(() => {});
  }
}

async function alreadyPublished(
  store: ObjectStore,
  dir: string,
  outputs: Record<string, string>,
): Promise<boolean> {
  const files = await listFiles(dir);
  if (files === undefined || files.length !== Object.keys(outputs).length) return false;
  for (const [file, digest] of Object.entries(outputs)) {
    if (!(await store.isMaterialized(digest, join(dir, file)))) return false;
  }
  return true;
}

/** Relative paths of all files under `dir` (undefined when it does not exist). */
export async function listFiles(dir: string, prefix = ""): Promise<string[] | undefined> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(join(dir, prefix)));
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...(await listFiles(dir, rel)) ?? []);
    else out.push(rel);
  }
  return out;
}

/**
 * Removes stage dirs under `configDir` that are not in `stages` (stages dropped from a config),
 * leaving the `<stage>.tmp-<pid>`/`.old-<pid>` dirs of a publish in progress in another process.
 */
export async function pruneStageDirs(configDir: string, stages: string[]): Promise<void> {
  const keep = new Set(stages);
  for (const e of await dirEntries(configDir)) {
    if (keep.has(e.name) || await publishing(e.name)) continue;
    await Deno.remove(join(configDir, e.name), { recursive: true }).catch(() => {});
  }
}

/** Whether `name` is a publish scratch dir of a live process (`/proc/<pid>` exists). */
async function publishing(name: string): Promise<boolean> {
  const pid = /\.(?:tmp|old)-(\d+)$/.exec(name)?.[1];
  if (!pid) return false;
  if (Number(pid) === Deno.pid) return true;
  const proc = await Deno.stat("/proc/self").then(() => true, () => false);
  return !proc || await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
}
