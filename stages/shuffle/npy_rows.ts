/**
 * Streaming writer for large float32 `[rows, cols]` `.npy` files (the 188 MB training images):
 * rows are produced block by block into one reused buffer, hashed and appended to a temp file,
 * which is then renamed into place. Building the whole array, encoding a second copy with
 * `encodeNpy` and writing it with `Deno.writeFile` costs three fresh 188 MB buffers, which made
 * the stage several times slower on a loaded 2-core machine.
 *
 * The bytes are exactly those of `encodeNpy` from `stages/lib/npy.ts` (a test checks this).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { encodeNpyHeader } from "../lib/npy.ts";

/** Writes all of `bytes` to `file`. */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let rest = bytes; rest.length > 0;) rest = rest.subarray(await file.write(rest));
}

/**
 * Writes a float32 `[rows, cols]` `.npy` file at `path` atomically. `fill(block, first)` must
 * fill `block` (a whole number of rows) with the rows starting at row `first`. Returns the
 * file's hex sha256.
 */
export async function writeFloat32RowsNpy(
  path: string,
  rows: number,
  cols: number,
  fill: (block: Float32Array, first: number) => void,
  blockRows = 2048,
): Promise<string> {
  const hash = createHash("sha256");
  const buffer = new Float32Array(Math.min(blockRows, rows) * cols);
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    const header = encodeNpyHeader("<f4", [rows, cols]);
    hash.update(header);
    await writeAll(file, header);
    for (let first = 0; first < rows; first += blockRows) {
      const block = buffer.subarray(0, Math.min(blockRows, rows - first) * cols);
      fill(block, first);
      const bytes = new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
      hash.update(bytes);
      await writeAll(file, bytes);
    }
    file.close();
    await Deno.rename(tmp, path);
  } catch (error) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return hash.digest("hex");
}
