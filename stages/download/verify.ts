/**
 * Turning fetched bytes into a verified idx file: gunzip, check the idx structure, then the
 * sha256 of the decompressed bytes against the expected digest.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import { sha256Hex } from "../../common/sha256.ts";
import type { DatasetFile } from "./fashion_mnist.ts";
import { parseImages, parseLabels } from "./idx.ts";
import type { FetchedFile } from "./mirror.ts";

/**
 * zlib's output chunk for `gzipped`: the size its trailer gives (ISIZE, the decompressed size
 * mod 2³²), so that the output is one buffer and not chunks joined at the end (a third less time
 * for the 47 MB of training images); within 64 KiB–256 MiB whatever the trailer says.
 */
function outputChunk(gzipped: Uint8Array): number {
  const isize = gzipped.length >= 4
    ? new DataView(gzipped.buffer, gzipped.byteOffset + gzipped.length - 4).getUint32(0, true)
    : 0;
  return Math.min(Math.max(isize, 64 << 10), 256 << 20);
}

/** Decompresses when gzipped, validates the idx structure and the digest; returns the idx bytes. */
export function verifyFile(fetched: FetchedFile, file: DatasetFile): Uint8Array {
  let bytes = fetched.bytes;
  if (fetched.gzipped) {
    try {
      const out = gunzipSync(fetched.bytes, { chunkSize: outputChunk(fetched.bytes) });
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (error) {
      throw new Error(`${fetched.where}: bad gzip data (${(error as Error).message})`);
    }
  }
  const source = fetched.gzipped ? `${fetched.where} (decompressed)` : fetched.where;
  if (file.role === "images") parseImages(bytes, source);
  else parseLabels(bytes, source);
  const digest = sha256Hex(bytes);
  if (digest !== file.sha256) {
    throw new Error(
      `${fetched.where}: sha256 of the decompressed ${file.name} is ${digest}, expected ${file.sha256}`,
    );
  }
  return bytes;
}

/** Throws when an images file and its labels file (named for the error) disagree on the count. */
export function checkSameCount(
  imageCount: number,
  labelCount: number,
  imagesSource: string,
  labelsSource: string,
): void {
  if (imageCount !== labelCount) {
    throw new Error(
      `${imagesSource} holds ${imageCount} images but ${labelsSource} holds ${labelCount} labels`,
    );
  }
}

/** Throws when an images file and the labels file of the same split disagree on the count. */
export function checkPairs(files: readonly DatasetFile[], data: Map<string, Uint8Array>): void {
  for (const images of files.filter((file) => file.role === "images")) {
    const labels = files.find((file) => file.role === "labels" && file.split === images.split);
    if (!labels) continue;
    checkSameCount(
      parseImages(data.get(images.name)!, images.name).count,
      parseLabels(data.get(labels.name)!, labels.name).length,
      images.name,
      labels.name,
    );
  }
}
