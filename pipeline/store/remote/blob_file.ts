/**
 * Moving blob bytes between HTTP bodies and files without holding them in memory: a download
 * is hashed while it streams into a temp file (kept only when the sha256 matches), an upload
 * streams from the file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { RemoteDigestMismatchError } from "./errors.ts";

/**
 * Streams `body` into a new temp file in `dir` while hashing it. Returns the file's path when
 * the bytes hash to `digest`; otherwise (or when the stream fails) removes the file and throws,
 * a `RemoteDigestMismatchError` for a mismatch.
 */
export async function receiveVerified(
  options: { body: ReadableStream<Uint8Array>; digest: string; dir: string; url: string },
): Promise<string> {
  await Deno.mkdir(options.dir, { recursive: true });
  const path = join(
    options.dir,
    `.remote-${options.digest.slice(0, 16)}-${crypto.randomUUID()}.tmp`,
  );
  const hash = createHash("sha256");
  const hashing = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
  try {
    const file = await Deno.open(path, { write: true, createNew: true });
    await options.body.pipeThrough(hashing).pipeTo(file.writable); // closes the file
    const actual = hash.digest("hex");
    if (actual !== options.digest) {
      throw new RemoteDigestMismatchError({ url: options.url, expected: options.digest, actual });
    }
    return path;
  } catch (error) {
    await Deno.remove(path).catch(() => {});
    throw error;
  }
}

/**
 * An open file as a streaming request body; `close` is safe after the body was sent. (Deno's
 * fetch sends a stream body chunked, ignoring a Content-Length header; nginx and other
 * HTTP/1.1 servers accept that.)
 */
export interface FileBody {
  stream: ReadableStream<Uint8Array>;
  close(): void;
}

/** Opens the file at `path` as a streaming request body. */
export async function openFileBody(path: string): Promise<FileBody> {
  const file = await Deno.open(path, { read: true });
  return {
    stream: file.readable,
    close() {
      try {
        file.close();
      } catch { /* the stream already closed it after the last byte */ }
    },
  };
}
