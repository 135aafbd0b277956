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

const sha256 = z.string().regex(SHA256_HEX, { message: "must be a lowercase hex sha256" });

/** Declared output file → sha256; names stay inside the stage's output directory. */
const outputs = z.record(z.string(), sha256).superRefine((value, ctx) => {
  for (const name of Object.keys(value)) {
    if (name === "" || name.startsWith("/") || name.split(/[\\/]/).includes("..")) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "output name must be a relative path without '..'",
      });
    }
  }
});

/** The schema of a record; `format` changes when the layout does. */
export const remoteRecordSchema = z.strictObject({
  format: z.literal("pipeline-remote-record/1"),
  /** The cache key the record is stored under. */
  key: sha256,
  /** Declared output file → sha256 of its bytes. */
  outputs,
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
    const at = issue.path.length ? keyPath(issue.path) : "(record)";
    return { problem: `${options.url}: ${at}: ${issue.message}` };
  }
  if (parsed.data.key !== options.key) {
    return { problem: `${options.url}: key: found ${parsed.data.key}; expected ${options.key}` };
  }
  return { record: parsed.data };
}

/** A zod issue path as a reader writes it: `outputs["../x"]`, `manifest.stage`. */
function keyPath(path: PropertyKey[]): string {
  return path.map((part, i) => {
    if (typeof part === "string" && /^[A-Za-z_$][\w$]*$/.test(part)) return i ? `.${part}` : part;
    return `[${JSON.stringify(typeof part === "symbol" ? String(part) : part)}]`;
  }).join("");
}
