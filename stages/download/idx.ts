/**
 * Reader for the idx format of (Fashion-)MNIST: a big-endian magic number whose low byte is
 * the number of dimensions (type byte 0x08 = unsigned byte), one big-endian uint32 per
 * dimension, then the data in C order. Images files have magic 2051 (3 dims), labels 2049.
 *
 * @module
 */

/** Magic number of an idx images file (unsigned bytes, 3 dimensions). */
export const IMAGES_MAGIC = 2051;
/** Magic number of an idx labels file (unsigned bytes, 1 dimension). */
export const LABELS_MAGIC = 2049;
/** Image side in pixels. */
export const SIDE = 28;
/** Pixels per image. */
export const PIXELS = SIDE * SIDE;
/** Number of classes; labels are 0..CLASSES-1. */
export const CLASSES = 10;

/** The dimensions and data of an idx file; `data` is a view into the parsed bytes. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Parses idx bytes that must have magic `magic`; `source` names the file in errors.
 * Throws when the magic differs or the length does not match the header.
 */
export function parseIdx(bytes: Uint8Array, magic: number, source: string): IdxArray {
  if (bytes.length < 4) throw new Error(`${source}: only ${bytes.length} bytes, not an idx file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    throw new Error(
      `${source}: idx magic number is ${found}, expected ${magic} ` +
        `(${magic === IMAGES_MAGIC ? "images" : "labels"} file); is this the right file?`,
    );
  }
  const ndim = magic & 0xff;
  const start = 4 + 4 * ndim;
  if (bytes.length < start) throw new Error(`${source}: truncated inside the idx header`);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + count) {
    throw new Error(
      `${source}: header says shape [${shape}] (${count} bytes of data) but the file has ` +
        `${bytes.length - start}; the file is ${
          bytes.length < start + count ? "truncated" : "too long"
        }`,
    );
  }
  return { shape, data: bytes.subarray(start) };
}

/** Parses an idx images file; throws unless the images are 28×28. Returns count and pixels. */
export function parseImages(
  bytes: Uint8Array,
  source: string,
): { count: number; pixels: Uint8Array } {
  const { shape, data } = parseIdx(bytes, IMAGES_MAGIC, source);
  if (shape[1] !== SIDE || shape[2] !== SIDE) {
    throw new Error(`${source}: images are ${shape[1]}×${shape[2]}, expected ${SIDE}×${SIDE}`);
  }
  return { count: shape[0], pixels: data };
}

/** Parses an idx labels file; throws on a label ≥ 10. */
export function parseLabels(bytes: Uint8Array, source: string): Uint8Array {
  const { data } = parseIdx(bytes, LABELS_MAGIC, source);
  const bad = data.findIndex((label) => label >= CLASSES);
  if (bad >= 0) {
    throw new Error(
      `${source}: label ${data[bad]} at index ${bad}; Fashion-MNIST labels are 0..${CLASSES - 1}`,
    );
  }
  return data;
}
