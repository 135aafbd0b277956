/**
 * NumPy `.npy` (format version 1.0) reading and writing, so every array the pipeline writes
 * opens with `numpy.load` and no code of ours. Only the dtypes the pipeline uses: float32,
 * uint8, int32. C order, little endian.
 *
 * @module
 */
import { writeFileAtomic } from "../../common/atomic_write.ts";

/** A typed array the `.npy` codec handles. */
export type NpyData = Float32Array | Uint8Array | Int32Array;

/** An n-dimensional array: flat data in C order and its shape. */
export interface NpyArray<T extends NpyData = NpyData> {
  data: T;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

function descrOf(data: NpyData): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Int32Array) return "<i4";
  return "|u1";
}

/**
 * The `.npy` v1.0 header (magic, version, length, dict, padding) of a C-order array with the
 * given dtype descriptor (`<f4`, `<i4`, `|u1`) and shape; the data bytes follow it directly.
 */
export function encodeNpyHeader(descr: string, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The header, magic and length field together are padded to a multiple of 64 bytes.
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(MAGIC.length + 4 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  return out;
}

/** Encodes an array as `.npy` bytes. Throws when `shape` does not match the data length. */
export function encodeNpy({ data, shape }: NpyArray): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`npy: shape [${shape}] holds ${count} values but the data has ${data.length}`);
  }
  const header = encodeNpyHeader(descrOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/** Decodes `.npy` bytes; `source` names the file in error messages. */
export function decodeNpy(bytes: Uint8Array, source = "<bytes>"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${source}: not a .npy file (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) {
    throw new Error(`${source}: malformed .npy header ${JSON.stringify(header)}`);
  }
  if (fortran === "True") throw new Error(`${source}: Fortran-ordered arrays are not supported`);
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLength;
  // A view when the data starts 4-byte aligned (numpy and encodeNpy pad the header so it does):
  // no second copy of a large file in memory. Otherwise a copy, which is aligned.
  const aligned = (bytes.byteOffset + start) % 4 === 0;
  const body = aligned ? bytes.subarray(start) : bytes.slice(start);
  const expectBytes = (size: number) => {
    if (body.byteLength !== count * size) {
      throw new Error(
        `${source}: shape [${shape}] needs ${count * size} bytes of data, found ${body.byteLength}`,
      );
    }
  };
  switch (descr) {
    case "<f4":
      expectBytes(4);
      return { data: new Float32Array(body.buffer, body.byteOffset, count), shape };
    case "<i4":
      expectBytes(4);
      return { data: new Int32Array(body.buffer, body.byteOffset, count), shape };
    case "|u1":
    case "<u1":
      expectBytes(1);
      return { data: body, shape };
    default:
      throw new Error(`${source}: dtype ${descr} is not supported (use float32, int32 or uint8)`);
  }
}

/** Writes an array to `path` atomically. */
export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array));
}

/**
 * Reads an array from `path` into one buffer of the file's size (`Deno.readFile` holds a second
 * copy of a large file while it reads).
 */
export async function readNpy(path: string): Promise<NpyArray> {
  using file = await Deno.open(path);
  const bytes = new Uint8Array((await file.stat()).size);
  let filled = 0;
  while (filled < bytes.length) {
    const read = await file.read(bytes.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return decodeNpy(bytes.subarray(0, filled), path);
}

/** Reads a float32 array from `path`; throws naming the file when it holds another dtype. */
export async function readNpyFloat32(path: string): Promise<NpyArray<Float32Array>> {
  const array = await readNpy(path);
  if (!(array.data instanceof Float32Array)) throw new Error(`${path}: expected float32 data`);
  return array as NpyArray<Float32Array>;
}

/** Reads a uint8 array from `path`; throws naming the file when it holds another dtype. */
export async function readNpyUint8(path: string): Promise<NpyArray<Uint8Array>> {
  const array = await readNpy(path);
  if (!(array.data instanceof Uint8Array)) throw new Error(`${path}: expected uint8 data`);
  return array as NpyArray<Uint8Array>;
}
