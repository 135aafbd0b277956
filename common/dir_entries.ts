/**
 * Listing a directory that may not exist yet (artifacts dirs are created lazily).
 *
 * @module
 */

/** The entries of `dir`, or none when it does not exist. */
export async function dirEntries(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
