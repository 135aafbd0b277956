/**
 * JSON parsing checked against a zod schema, with errors that name the file (and line) and the
 * offending key.
 *
 * @module
 */
import type { z } from "zod";

/** Parses `text` and checks it against `schema`; `where` names the source in errors. */
export function parseJson<T>(schema: z.ZodType<T>, text: string, where: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: ${issue.path.join(".") || "<root>"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads the JSON file at `path` and checks it against `schema`. */
export async function readJson<T>(schema: z.ZodType<T>, path: string): Promise<T> {
  return parseJson(schema, await Deno.readTextFile(path), path);
}
