/**
 * The zod schemas of the engine's state files: what a trace, a lock file, an experiment
 * record, the verification memo and the module-graph cache must look like for the engine to
 * use them. They check every field the engine reads (and its type), and let unknown extra
 * fields through, so a file written by a newer engine still reads.
 *
 * @module
 */
import { z } from "zod";

/** A lowercase hex sha256. */
export const digestSchema = z.string().regex(/^[0-9a-f]{64}$/, "expected a hex sha256");

const strings = z.record(z.string(), z.string());
const outputs = z.record(z.string(), digestSchema);

/** `Fingerprint` (rebuilder/fingerprint.ts). */
export const fingerprintSchema = z.looseObject({
  engine: z.string(),
  stage: z.string(),
  uses: z.string(),
  params: z.unknown(),
  inputs: z.record(z.string(), z.array(z.looseObject({ stage: z.string(), outputs: strings }))),
  code: strings,
  npm: strings,
  runtime: strings,
  deno: z.string(),
  platform: z.string(),
});

/** `Trace` (store/trace.ts): `artifacts/cache/<key>.json`. */
export const traceSchema = z.looseObject({
  key: digestSchema,
  fingerprint: fingerprintSchema,
  outputs,
  metrics: z.unknown().optional(),
});

/** `LockFile` (store/lockfile.ts): `configs/<name>.lock.json`, experiments' locks. */
export const lockFileSchema = z.looseObject({
  config: z.string(),
  digest: z.string(),
  versions: strings,
  stages: z.record(
    z.string(),
    z.looseObject({
      uses: z.string(),
      key: z.string(),
      params: z.unknown(),
      codeDigest: z.string(),
      runtime: strings,
      // Digests are not checked here: an output that names no object reads as missing.
      outputs: strings,
      metrics: z.unknown().optional(),
    }),
  ),
});

/** `Experiment` (config/experiments.ts): `artifacts/experiments/<name>.json`. */
export const experimentSchema = z.looseObject({
  name: z.string(),
  config: z.string(),
  sets: z.array(z.string()),
  created: z.string(),
});

/** The verification memo (store/objects.ts): digest → stat stamp. */
export const verifyMemoSchema = strings;

/** The module-graph cache (rebuilder/module_graph.ts): root set → stats and graph. */
export const savedGraphsSchema = z.record(
  z.string(),
  z.looseObject({
    stats: strings,
    graph: z.looseObject({ modules: strings, npm: strings }),
  }),
);
