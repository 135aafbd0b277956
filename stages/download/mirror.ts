/**
 * Reading a dataset file from a local mirror directory, which may hold it gzipped
 * (`<name>.gz`, as Debian installs it) or already decompressed (`<name>`).
 *
 * @module
 */
import { join } from "node:path";

/** A file's raw bytes, whether they are gzipped, and where they came from. */
export interface FetchedFile {
  bytes: Uint8Array;
  gzipped: boolean;
  /** Path or URL, for error messages. */
  where: string;
}

/** Reads `<dir>/<name>.gz`, else `<dir>/<name>`; throws one line when neither exists. */
export async function readFromMirror(dir: string, name: string): Promise<FetchedFile> {
  for (const gzipped of [true, false]) {
    const path = join(dir, gzipped ? `${name}.gz` : name);
    try {
      return { bytes: await Deno.readFile(path), gzipped, where: path };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`cannot read ${path}: ${(error as Error).message}`);
      }
    }
  }
  const exists = await Deno.stat(dir).then(() => true, () => false);
  throw new Error(
    exists ? `neither ${name}.gz nor ${name} is in ${dir}` : `directory ${dir} does not exist`,
  );
}
