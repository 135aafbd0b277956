/**
 * Lock files that travel between machines. A committed lock (`configs/<name>.lock.json`)
 * records what the repository expects; a run on a machine whose runtime differs (another CPU,
 * so OpenBLAS picks another kernel and the last bits of the numbers change) produces other
 * cache keys and digests with the same config, code and package versions. Such a run does not
 * rewrite the committed lock (a fresh clone stays clean): it is recorded in the machine-local
 * lock `artifacts/locks/<name>.lock.json`, which `run` and `status` read while it exists. Any
 * other difference (params, code, versions, stages; new bytes under the same runtime) rewrites
 * the committed lock, as it should be committed, and drops the local one.
 *
 * What goes where: everything that can change the bytes a stage writes is in its cache key
 * (params, inputs, code, npm versions, Deno version, OS/arch and the kind's runtime settings,
 * including the BLAS library string with its CPU kernel); the machine's name, CPU model and
 * core count are provenance only (`LockFile.machine`), never keyed.
 *
 * `check` compares with the committed lock as git has it (`git show HEAD:<path>`) when the
 * working copy differs, and names the machine and runtime of each side.
 *
 * @module
 */
import { join, relative } from "node:path";
import { canonicalJson } from "../../common/canonical_json.ts";
import { runtimeChanges } from "../rebuilder/fingerprint.ts";
import { describeReason } from "../rebuilder/reasons.ts";
import type { Layout } from "../store/layout.ts";
import { type LockFile, readLock, writeLock } from "../store/lockfile.ts";

/** `artifacts/locks/<name>.lock.json`: this machine's lock when the committed one is another's. */
export function localLockPath(layout: Layout, publishAs: string): string {
  return join(layout.artifacts, "locks", `${publishAs}.lock.json`);
}

/** The lock `run` and `status` compare with: the machine-local one while it exists. */
export async function currentLockPath(
  layout: Layout,
  path: string,
  publishAs: string,
): Promise<string> {
  const local = localLockPath(layout, publishAs);
  return await Deno.stat(local).then(() => local, () => path);
}

/** The recipe of a lock: everything but what the machine contributes. */
function recipe(lock: LockFile): string {
  return canonicalJson({
    config: lock.config,
    digest: lock.digest,
    versions: lock.versions,
    stages: Object.fromEntries(
      Object.entries(lock.stages).map(([name, s]) => [name, [s.uses, s.params, s.codeDigest]]),
    ),
  });
}

/** The runtime settings that differ between two locks, in words (each once). */
export function runtimeDifferences(a: LockFile, b: LockFile): string[] {
  const words = new Set<string>();
  for (const [name, s] of Object.entries(b.stages)) {
    for (const r of runtimeChanges(a.stages[name]?.runtime ?? {}, s.runtime)) {
      words.add(describeReason(r));
    }
  }
  const [pa, pb] = [a.machine?.platform, b.machine?.platform];
  if (pa && pb && pa !== pb) words.add(`platform ${pa} → ${pb}`);
  return [...words];
}

/**
 * True when `now` is `before`'s recipe run on another machine: same config, code, params and
 * package versions, but other runtime settings or another platform. (Same recipe and same
 * runtime with other bytes is a rerun here, e.g. of a stage with volatile outputs: recorded.)
 */
export function onlyMachineDiffers(before: LockFile, now: LockFile): boolean {
  return recipe(before) === recipe(now) && runtimeDifferences(before, now).length > 0;
}

/**
 * Records a successful run's lock: in `path` unless only the machine differs from the lock
 * there, else in the machine-local lock. Returns the path written and, when the committed lock
 * was kept, a note saying so.
 */
export async function saveLock(o: {
  layout: Layout;
  path: string;
  publishAs: string;
  lock: LockFile;
}): Promise<{ path: string; note?: string }> {
  const before = await readLock(o.path);
  const local = localLockPath(o.layout, o.publishAs);
  if (before && onlyMachineDiffers(before, o.lock)) {
    await Deno.mkdir(join(local, ".."), { recursive: true });
    await writeLock(local, o.lock);
    const rel = (p: string) => relative(o.layout.root, p);
    const why = runtimeDifferences(before, o.lock);
    return {
      path: local,
      note: `lock: kept ${rel(o.path)}: only the machine differs (${why.join("; ")}); ` +
        `this machine's run is recorded in ${rel(local)} (to commit it instead: ` +
        `cp ${rel(local)} ${rel(o.path)})`,
    };
  }
  await writeLock(o.path, o.lock);
  await Deno.remove(local).catch(() => {});
  return { path: o.path };
}

/** A lock to compare with and where it came from. */
export interface ReferenceLock {
  lock: LockFile;
  /** E.g. `configs/paper.lock.json as committed (HEAD; the working copy differs)`. */
  source: string;
}

/**
 * The lock `check` compares with: git's committed version of `path` when the working copy
 * differs from it (a run rewrote it), else the file itself; undefined when there is neither.
 */
export async function committedLock(
  layout: Layout,
  path: string,
): Promise<ReferenceLock | undefined> {
  const rel = relative(layout.root, path);
  const working = await readLock(path);
  const head = await gitHead(layout.root, rel);
  if (head !== undefined) {
    let lock: LockFile;
    try {
      lock = JSON.parse(head);
    } catch (e) {
      throw new Error(`${rel} in git HEAD is not valid JSON (${(e as Error).message})`);
    }
    if (!working || canonicalJson(working) !== canonicalJson(lock)) {
      return { lock, source: `${rel} as committed in HEAD (the working copy differs)` };
    }
  }
  return working && { lock: working, source: rel };
}

/** `git show HEAD:<rel>` in `root`, or undefined when not in git or not committed. */
async function gitHead(root: string, rel: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", {
      args: ["show", `HEAD:./${rel}`],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined; // no git on this machine
  }
}

/** One side of a comparison: machine, Deno and the runtime settings its stages ran with. */
export function describeSide(label: string, lock: LockFile): string {
  const m = lock.machine;
  const machine = m
    ? `${m.host} (${m.cpu}, ${m.cores} cores, ${m.platform}), deno ${m.deno}`
    : `machine not recorded, deno ${lock.versions.deno ?? "?"}`;
  const settings = new Set<string>();
  for (const s of Object.values(lock.stages)) {
    for (const [k, v] of Object.entries(s.runtime)) settings.add(`${k}=${v}`);
  }
  return `${label}: ${machine}; runtime ${[...settings].join(", ") || "(none)"}`;
}
