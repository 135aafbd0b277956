/**
 * A remote cache over plain HTTP in the layout of Bazel's remote HTTP cache: blobs at
 * `{base}/cas/<sha256>`, one JSON record per cache key at `{base}/ac/<key>`. PUT writes,
 * GET/HEAD read, so any WebDAV-capable server (nginx's dav module) serves it.
 *
 * The server is not trusted: every downloaded blob is hashed while it streams and rejected on
 * a mismatch, every record is validated, and a record is only believed (or written) when all
 * its blobs are on the server, so readers never get a record whose blobs are missing.
 *
 * @module
 */
import { openFileBody, receiveVerified } from "./blob_file.ts";
import { RemoteMissingBlobsError } from "./errors.ts";
import { expectStatus, type RequestPolicy, withRetry } from "./http.ts";
import { parseRemoteRecord, type RemoteRecord, SHA256_HEX } from "./record.ts";

/** Where the remote is and how patient to be with it. */
export interface HttpRemoteOptions {
  /** Base URL (http or https); `cas/` and `ac/` live below it. */
  url: string;
  /** Each request, body included, is abandoned after this long. Default 60 s. */
  timeoutMs?: number;
  /** Extra attempts after a 5xx answer or a dropped connection. Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 200 ms. */
  backoffMs?: number;
  /** HEAD requests in flight at once when checking many blobs. Default 8. */
  concurrency?: number;
  /** Receives warnings: a malformed record, a record with missing blobs. Default console.warn. */
  onWarning?(message: string): void;
  /** Called before each retry with the reason of the failed attempt. */
  onRetry?(reason: string, attempt: number, waitMs: number): void;
}

/** What `lookup` found for a cache key. */
export type RecordLookup =
  | { hit: true; record: RemoteRecord }
  | { hit: false; reason: string; missing?: string[] };

/** The HTTP remote cache. Methods throw `RemoteError` subclasses (see `errors.ts`). */
export class HttpRemote {
  /** The base URL, without a trailing slash. */
  readonly url: string;
  #policy: RequestPolicy;
  #concurrency: number;
  #warn: (message: string) => void;

  constructor(options: HttpRemoteOptions) {
    this.url = baseUrl(options.url);
    this.#policy = {
      timeoutMs: options.timeoutMs ?? 60_000,
      retries: options.retries ?? 2,
      backoffMs: options.backoffMs ?? 200,
      onRetry: options.onRetry,
    };
    this.#concurrency = options.concurrency ?? 8;
    this.#warn = options.onWarning ?? ((message) => console.warn(message));
  }

  /** The URL of the blob `digest`. */
  blobUrl(digest: string): string {
    return `${this.url}/cas/${checkedHex(digest, "blob digest")}`;
  }

  /** The URL of the record of cache key `key`. */
  recordUrl(key: string): string {
    return `${this.url}/ac/${checkedHex(key, "cache key")}`;
  }

  /** Whether the server has the blob `digest` (HEAD; its bytes are not checked). */
  async hasBlob(digest: string): Promise<boolean> {
    const url = this.blobUrl(digest);
    return await withRetry({ url, method: "HEAD", policy: this.#policy }, async (signal) => {
      const response = await fetch(url, { method: "HEAD", signal });
      await expectStatus(response, [200, 404]);
      return response.status === 200;
    });
  }

  /** The digests among `digests` the server does not have, in the order given, once each. */
  async missingBlobs(digests: Iterable<string>): Promise<string[]> {
    const unique = [...new Set(digests)];
    const present = new Array<boolean>(unique.length);
    let next = 0;
    const worker = async () => {
      while (next < unique.length) {
        const i = next++;
        present[i] = await this.hasBlob(unique[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, unique.length) }, worker));
    return unique.filter((_, i) => !present[i]);
  }

  /**
   * Downloads the blob `digest` into a new temp file in `dir` (put it on the local store's file
   * system so the store can take it by rename) and returns the file's path, or undefined when
   * the server does not have it. Bytes that do not hash to `digest` throw a
   * `RemoteDigestMismatchError` and leave nothing behind.
   */
  async getBlob(digest: string, options: { dir: string }): Promise<string | undefined> {
    const url = this.blobUrl(digest);
    return await withRetry({ url, method: "GET", policy: this.#policy }, async (signal) => {
      const response = await fetch(url, { signal });
      await expectStatus(response, [200, 404]);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      return await receiveVerified({ body: response.body!, digest, dir: options.dir, url });
    });
  }

  /**
   * Uploads the file at `path` as the blob `digest`, streaming it. The caller vouches that the
   * file hashes to `digest` (a local store object named by it); readers verify anyway.
   */
  async putBlob(digest: string, path: string): Promise<void> {
    const url = this.blobUrl(digest);
    await withRetry({ url, method: "PUT", policy: this.#policy }, async (signal) => {
      const body = await openFileBody(path);
      try {
        const response = await fetch(url, { method: "PUT", body: body.stream, signal });
        await expectStatus(response, [200, 201, 204]);
        await response.body?.cancel();
      } finally {
        body.close();
      }
    });
  }

  /**
   * The record of `key` as the server has it, or undefined when there is none. A record that is
   * not valid (bad JSON, wrong shape, another key) is a miss and a warning naming its URL.
   * Its blobs are not checked; `lookup` does that.
   */
  async getRecord(key: string): Promise<RemoteRecord | undefined> {
    const url = this.recordUrl(key);
    const text = await withRetry({ url, method: "GET", policy: this.#policy }, async (signal) => {
      const response = await fetch(url, { signal });
      await expectStatus(response, [200, 404]);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      return await response.text();
    });
    if (text === undefined) return undefined;
    const parsed = parseRemoteRecord({ text, key, url });
    if ("problem" in parsed) {
      this.#warn(`remote cache: ignoring malformed record ${parsed.problem}`);
      return undefined;
    }
    return parsed.record;
  }

  /**
   * The record of `key` when it is valid and every blob it names is on the server; otherwise a
   * miss with the reason (and, for missing blobs, a warning naming the record's URL and them).
   */
  async lookup(key: string): Promise<RecordLookup> {
    const url = this.recordUrl(key);
    const record = await this.getRecord(key);
    if (!record) return { hit: false, reason: `no valid record at ${url}` };
    const missing = await this.missingBlobs(Object.values(record.outputs));
    if (missing.length === 0) return { hit: true, record };
    const reason = `record ${url} names ${missing.length} blob(s) missing on the server: ` +
      missing.map((digest) => this.blobUrl(digest)).join(", ");
    this.#warn(`remote cache: treating as a miss: ${reason}`);
    return { hit: false, reason, missing };
  }

  /**
   * Writes `record` at its key, after checking (HEAD) that every blob it names is on the server;
   * throws `RemoteMissingBlobsError` otherwise, writing nothing.
   */
  async putRecord(record: RemoteRecord): Promise<void> {
    const url = this.recordUrl(record.key);
    const missing = await this.missingBlobs(Object.values(record.outputs));
    if (missing.length > 0) throw new RemoteMissingBlobsError({ url, missing });
    const text = JSON.stringify(record, null, 2) + "\n";
    await withRetry({ url, method: "PUT", policy: this.#policy }, async (signal) => {
      const response = await fetch(url, {
        method: "PUT",
        body: text,
        headers: { "content-type": "application/json" },
        signal,
      });
      await expectStatus(response, [200, 201, 204]);
      await response.body?.cancel();
    });
  }

  /**
   * Publishes one stage run: uploads the blobs the server lacks (from `blobPath(digest)`), then
   * the record, last. Returns the digests that were uploaded.
   */
  async push(
    record: RemoteRecord,
    options: { blobPath(digest: string): string },
  ): Promise<{ uploaded: string[] }> {
    const uploaded = await this.missingBlobs(Object.values(record.outputs));
    for (const digest of uploaded) await this.putBlob(digest, options.blobPath(digest));
    await this.putRecord(record);
    return { uploaded };
  }
}

/** `url` without trailing slashes, after checking it is http(s). */
function baseUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch { /* reported below */ }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new TypeError(
      `remote url: found ${JSON.stringify(url)}; expected an http:// or https:// URL, ` +
        `e.g. remote: { url: http://cache.example:8080/pipeline }`,
    );
  }
  return url.replace(/\/+$/, "");
}

/** `value` when it is a lowercase hex sha256 (safe as a URL path segment). */
function checkedHex(value: string, what: string): string {
  if (!SHA256_HEX.test(value)) {
    throw new TypeError(
      `${what}: found ${JSON.stringify(value)}; expected 64 lowercase hex digits`,
    );
  }
  return value;
}
