/**
 * The lock file of a config (like `dvc.lock`): per stage, the cache key, params, code digest
 * and output digests of the last successful run, and the stage's `metrics.json`. Kept beside
 * the config as `<name>.lock.json` and committed for the paper configs, so CI (`check`) can
 * compare a regeneration with it.
 *
 * @module
 */
import { cpus, hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { stableJsonText } from "../../common/stable_json.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { dirEntries } from "../../common/dir_entries.ts";
import type { Layout } from "./layout.ts";
import { parseState, readStateFile, readStateOrWarn, type StateRead } from "./state_file.ts";
import { lockFileSchema } from "./state_schemas.ts";

/** One stage's entry in a lock file. */
export interface LockedStage {
  /** Stage kind. */
  uses: string;
  /** Cache key of the run that produced the outputs. */
  key: string;
  /** Validated params. */
  params: unknown;
  /** sha256 over the stage's local import graph. */
  codeDigest: string;
  /** Runtime settings (backend, …) the outputs were computed with. */
  runtime: Record<string, string>;
  /** Output file → sha256. */
  outputs: Record<string, string>;
  /** The stage's `metrics.json`, when it declares one. */
  metrics?: unknown;
}

/** Where a lock was written: provenance only, never part of a cache key. */
export interface MachineFacts {
  host: string;
  /** CPU model name. */
  cpu: string;
  cores: number;
  /** `<os>-<arch>`. */
  platform: string;
  deno: string;
}

/** The facts about this machine a lock records as provenance. */
export function machineFacts(): MachineFacts {
  return {
    host: hostname(),
    cpu: cpus()[0]?.model?.trim() || "unknown CPU",
    cores: navigator.hardwareConcurrency,
    platform: `${Deno.build.os}-${Deno.build.arch}`,
    deno: Deno.version.deno,
  };
}

/** A config's lock file. */
export interface LockFile {
  /** The machine that wrote it (absent in locks written before it was recorded). */
  machine?: MachineFacts;
  /** Config path relative to the project root. */
  config: string;
  /** sha256 of the resolved config. */
  digest: string;
  /** Deno version and npm package versions the stages ran with. */
  versions: Record<string, string>;
  /** By stage name, in run order. */
  stages: Record<string, LockedStage>;
}

/** `configs/paper.yaml` → `configs/paper.lock.json`. */
export function lockPathFor(configPath: string): string {
  const name = basename(configPath).replace(/\.ya?ml$/, "");
  return join(dirname(configPath), `${name}.lock.json`);
}

/**
 * Reads a lock file, or undefined when there is none. A malformed one is reported once and
 * treated as absent (a successful run rewrites it); {@link readLockState} tells the two apart.
 */
export async function readLock(path: string): Promise<LockFile | undefined> {
  return await readStateOrWarn(
    path,
    lockFileSchema,
    "ignored (treated as absent; a successful run rewrites it, or restore it with git)",
  ) as LockFile | undefined;
}

/** Reads a lock file, telling a missing file from a malformed one. */
export async function readLockState(path: string): Promise<StateRead<LockFile>> {
  return await readStateFile(path, lockFileSchema) as StateRead<LockFile>;
}

/**
 * Every `*.lock.json` of a project: the configs' (under `configs/`), the experiments' and the
 * machine-local ones (`artifacts/locks/`).
 */
export async function allLockFiles(
  layout: Pick<Layout, "root" | "experiments" | "artifacts">,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await dirEntries(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".lock.json")) out.push(path);
    }
  };
  await walk(join(layout.root, "configs"));
  await walk(layout.experiments);
  await walk(join(layout.artifacts, "locks")); // machine-local locks (cli/lock_travel.ts)
  return out;
}

/**
 * Writes a lock file when its content changed (keeps git diffs and mtimes quiet otherwise);
 * a lock that differs only in `machine` (written elsewhere, same results) is left as it is.
 */
export async function writeLock(path: string, lock: LockFile): Promise<boolean> {
  const text = stableJsonText(lock);
  const old = await Deno.readTextFile(path).catch(() => undefined);
  if (old === text) return false;
  const before = old === undefined ? undefined : parseState(path, old, lockFileSchema);
  if (before?.state === "ok" && sameButMachine(before.value as LockFile, lock)) return false;
  await writeFileAtomic(path, text);
  return true;
}

/** True when two locks record the same run, whichever machine wrote each. */
export function sameButMachine(a: LockFile, b: LockFile): boolean {
  return stableJsonText({ ...a, machine: undefined }) ===
    stableJsonText({ ...b, machine: undefined });
}
