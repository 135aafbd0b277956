/**
 * Reading the engine's own state files (traces, lock files, experiment records, the
 * verification memo, the module-graph cache) defensively: each is parsed as JSON and checked
 * against a zod schema. A file that is missing is `absent`; one that does not parse or does
 * not fit the schema is `bad`, with a one-line problem naming what is wrong. Callers that can
 * treat a bad file as a miss use {@link readStateOrWarn}, which reports the file once per
 * process (on stderr) and returns undefined; callers that must not guess (gc) use
 * {@link readStateFile} and refuse.
 *
 * @module
 */
import type { z } from "zod";

/** The outcome of reading a state file. */
export type StateRead<T> =
  | { state: "ok"; value: T }
  | { state: "absent" }
  | { state: "bad"; path: string; problem: string };

/** Reads and validates `path` against `schema`. Never throws. */
export async function readStateFile<T>(path: string, schema: z.ZodType<T>): Promise<StateRead<T>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { state: "absent" };
    if (e instanceof Deno.errors.IsADirectory) {
      return { state: "bad", path, problem: "is a directory" };
    }
    return { state: "bad", path, problem: `unreadable (${(e as Error).message})` };
  }
  return parseState(path, text, schema);
}

/** Validates the text of a state file (already read). */
export function parseState<T>(path: string, text: string, schema: z.ZodType<T>): StateRead<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { state: "bad", path, problem: `not valid JSON (${(e as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { state: "ok", value: parsed.data };
  const issue = parsed.error.issues[0];
  const at = issue.path.length ? issue.path.join(".") : "the top level";
  return { state: "bad", path, problem: `unexpected shape at ${at}: ${issue.message}` };
}

const reported = new Set<string>();

/** Prints `warning: PATH: PROBLEM; …` once per path and process. */
export function reportBadState(bad: { path: string; problem: string }, consequence: string): void {
  if (reported.has(bad.path)) return;
  reported.add(bad.path);
  console.error(`warning: ${bad.path}: ${bad.problem}; ${consequence}`);
}

/**
 * Reads `path`; a bad file is reported once (with `consequence`, default "ignored: treated as
 * absent") and, like a missing one, gives undefined.
 */
export async function readStateOrWarn<T>(
  path: string,
  schema: z.ZodType<T>,
  consequence = "ignored (treated as absent; it is rewritten by the next successful run)",
): Promise<T | undefined> {
  const r = await readStateFile(path, schema);
  if (r.state === "ok") return r.value;
  if (r.state === "bad") reportBadState(r, consequence);
  return undefined;
}
