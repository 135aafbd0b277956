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

/** Decompresses when gzipped, validates the idx structure and the digest; returns the idx bytes. */
export function verifyFile(fetched: FetchedFile, file: DatasetFile): Uint8Array {
  let bytes = fetched.bytes;
  if (fetched.gzipped) {
    try {
      bytes = new Uint8Array(gunzipSync(fetched.bytes));
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
