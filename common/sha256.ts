/**
 * Hex sha256 digests of bytes and files (node:crypto), for verifying inputs and recording the
 * digests of outputs.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The lowercase hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The lowercase hex sha256 of the file at `path`, read in chunks (no whole-file buffer). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk); // the stream closes the file
  return hash.digest("hex");
}
