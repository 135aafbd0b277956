/**
 * safetensors reading and writing (float32 tensors only), so checkpoints load in PyTorch,
 * numpy (`safetensors.numpy.load_file`) or any other safetensors reader.
 *
 * Layout: 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
 * and byte range, then the raw data. `__metadata__` holds string-to-string metadata.
 *
 * @module
 */
import { writeFileAtomic } from "../../common/atomic_write.ts";
import type { NpyArray } from "./npy.ts";

/** Named float32 tensors and string metadata. */
export interface SafeTensors {
  tensors: Record<string, NpyArray<Float32Array>>;
  metadata: Record<string, string>;
}

/** Encodes tensors (in key order, so the bytes are deterministic) and metadata. */
export function encodeSafeTensors({ tensors, metadata }: SafeTensors): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { data, shape } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) {
      throw new Error(`safetensors: tensor ${name} has shape [${shape}] but ${data.length} values`);
    }
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

/** Decodes safetensors bytes; `source` names the file in error messages. */
export function decodeSafeTensors(bytes: Uint8Array, source = "<bytes>"): SafeTensors {
  if (bytes.length < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new Error(`${source}: header length ${headerLength} runs past the end of the file`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const base = 8 + headerLength;
  const tensors: Record<string, NpyArray<Float32Array>> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== "F32") throw new Error(`${source}: tensor ${name} is ${dtype}, expected F32`);
    if (base + end > bytes.length) throw new Error(`${source}: tensor ${name} is truncated`);
    const data = new Float32Array(bytes.slice(base + begin, base + end).buffer);
    tensors[name] = { data, shape };
  }
  return { tensors, metadata: (header.__metadata__ ?? {}) as Record<string, string> };
}

/** Writes a safetensors file atomically. */
export async function writeSafeTensors(path: string, content: SafeTensors): Promise<void> {
  await writeFileAtomic(path, encodeSafeTensors(content));
}

/** Reads a safetensors file. */
export async function readSafeTensors(path: string): Promise<SafeTensors> {
  return decodeSafeTensors(await Deno.readFile(path), path);
}
