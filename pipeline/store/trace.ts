/**
 * Constructive traces: for each cache key, the outputs a stage run with that key produced
 * (and the fingerprint it was made of, so `status` can say what changed). Stored as
 * `artifacts/cache/<key>.json`. A trace is written only after all its outputs are in the store.
 *
 * @module
 */
import { join } from "node:path";
import type { Fingerprint } from "../rebuilder/fingerprint.ts";
import { stableJsonText } from "../../common/stable_json.ts";
import { dirEntries } from "../../common/dir_entries.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { readStateOrWarn, reportBadState } from "./state_file.ts";
import { traceSchema } from "./state_schemas.ts";

/** What one successful stage run produced. */
export interface Trace {
  /** The cache key (sha256 of `fingerprint`). */
  key: string;
  /** The inputs the key was made of. */
  fingerprint: Fingerprint;
  /** Declared output file → sha256. */
  outputs: Record<string, string>;
  /** Parsed `metrics.json`, when the stage declares one. */
  metrics?: unknown;
}

/**
 * Reads the trace of `key`, or undefined when none was recorded. A malformed trace (bad JSON,
 * wrong shape, or recorded under another key) is reported once and treated as a miss: the
 * stage reruns and its new trace replaces the file.
 */
export async function readTrace(cacheDir: string, key: string): Promise<Trace | undefined> {
  const path = join(cacheDir, `${key}.json`);
  const trace = await readStateOrWarn(path, traceSchema, MISS);
  if (trace && trace.key !== key) {
    reportBadState({ path, problem: `records key ${trace.key}, not ${key}` }, MISS);
    return undefined;
  }
  return trace as Trace | undefined;
}

const MISS = "ignored (treated as a cache miss; the stage reruns and rewrites it)";

/** Records a trace (atomically). */
export async function writeTrace(cacheDir: string, trace: Trace): Promise<void> {
  await Deno.mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(join(cacheDir, `${trace.key}.json`), stableJsonText(trace));
}

/** Every recorded trace key. */
export async function listTraceKeys(cacheDir: string): Promise<string[]> {
  const entries = await dirEntries(cacheDir);
  return entries.filter((e) => e.name.endsWith(".json")).map((e) => e.name.slice(0, -5));
}
