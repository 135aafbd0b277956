/**
 * The action-cache record kept at `{base}/ac/<key>`: what one successful stage run with that
 * cache key produced (declared output file → sha256 of its blob at `{base}/cas/<sha256>`),
 * the parsed metrics when the stage has them, and the run's manifest. A server holds any bytes
 * it is sent, so every record read back is validated before it is believed.
 *
 * @module
 */
import { z } from "zod";

/** A lowercase hex sha256: blob names and cache keys. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Declared output names are relative paths that stay inside the stage's output directory. */
const outputName = z.string().min(1).refine(
  (name) => !name.startsWith("/") && !name.split(/[\\/]/).includes(".."),
  { message: "must be a relative path without '..'" },
);

const sha256 = z.string().regex(SHA256_HEX, { message: "must be a lowercase hex sha256" });

/** The schema of a record; `format` changes when the layout does. */
export const remoteRecordSchema = z.strictObject({
  format: z.literal("pipeline-remote-record/1"),
  /** The cache key the record is stored under. */
  key: sha256,
  /** Declared output file → sha256 of its bytes. */
  outputs: z.record(outputName, sha256),
  /** Parsed `metrics.json`, when the stage declares one. */
  metrics: z.unknown().optional(),
  /** The manifest of the run that produced the outputs (a JSON object). */
  manifest: z.record(z.string(), z.unknown()),
});

/** One stage run's outputs as the remote cache records them. */
export type RemoteRecord = z.infer<typeof remoteRecordSchema>;

/**
 * Parses the text of the record at `url` that should belong to `key`. Returns the record, or
 * the reason it is not one (bad JSON, a schema violation, a record of another key).
 */
export function parseRemoteRecord(
  options: { text: string; key: string; url: string },
): { record: RemoteRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(options.text);
  } catch (error) {
    return { problem: `${options.url}: not JSON (${(error as Error).message})` };
  }
  const parsed = remoteRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length ? issue.path.join(".") : "(record)";
    return { problem: `${options.url}: ${at}: ${issue.message}` };
  }
  if (parsed.data.key !== options.key) {
    return { problem: `${options.url}: key: found ${parsed.data.key}; expected ${options.key}` };
  }
  return { record: parsed.data };
}
