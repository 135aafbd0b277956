/**
 * Writes a file so that readers see either the old content or the whole new content, never a
 * half-written file: write a temp file beside it, then rename over the target.
 *
 * @module
 */

/** Writes `data` to `path` through a temp file and a rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
