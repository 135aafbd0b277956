/**
 * One manifest per stage run (success or failure) under `artifacts/runs/`: what ran, on
 * what, when, for how long and on how many cores. Unlike traces, manifests hold timings.
 *
 * @module
 */
import { join } from "node:path";
import type { Fingerprint } from "../rebuilder/fingerprint.ts";
import { stableJsonText } from "../../common/stable_json.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { dirEntries } from "../../common/dir_entries.ts";

/** The record of one stage run. */
export interface Manifest {
  /** `ok` or `failed`. */
  status: "ok" | "failed";
  /** Config path (relative to the project root) and the name outputs are published under. */
  config: string;
  name: string;
  stage: string;
  key: string;
  /** Validated params, key-neutral ones included (the fingerprint leaves those out). */
  params: unknown;
  /** Fingerprint: params, input digests, module digests, npm versions, runtime, deno. */
  fingerprint: Fingerprint;
  codeDigest: string;
  /** Output file → sha256 (empty on failure). */
  outputs: Record<string, string>;
  /** Error message on failure. */
  error?: string;
  /** ISO times and wall-clock seconds. */
  start: string;
  end: string;
  wallSeconds: number;
  /** Logical cores of the machine and its host name. */
  cores: number;
  host: string;
  /** The stage's log file, relative to the project root. */
  log: string;
}

/** Writes a manifest as `runs/<start>_<name>_<stage>.json`; returns its path. */
export async function writeManifest(runsDir: string, m: Manifest): Promise<string> {
  await Deno.mkdir(runsDir, { recursive: true });
  const path = join(runsDir, `${m.start.replace(/[:.]/g, "-")}_${m.name}_${m.stage}.json`);
  await writeFileAtomic(path, stableJsonText(m));
  return path;
}

/** The newest successful run manifest recorded for cache key `key` in `runsDir`, if any. */
export async function findManifest(runsDir: string, key: string): Promise<Manifest | undefined> {
  const names = (await dirEntries(runsDir))
    .filter((e) => e.isFile && e.name.endsWith(".json"))
    .map((e) => e.name)
    .sort()
    .reverse(); // names start with the run's ISO start time
  for (const name of names) {
    try {
      const m = JSON.parse(await Deno.readTextFile(join(runsDir, name))) as Manifest;
      if (m.key === key && m.status === "ok") return m;
    } catch { /* a manifest being written or damaged: not this one */ }
  }
  return undefined;
}
