/**
 * The local cache with a remote cache behind it, as one `Cache`. A local miss asks the remote
 * (a valid record whose blobs are all on the server); in `pull` mode the blobs are downloaded,
 * each verified against its sha256 while it streams, stored in the local store and the trace
 * written locally, so the result is local from then on; in `peek` mode (`status`,
 * `--dry-run`) nothing is downloaded and the result only counts as available. With `push`,
 * every trace computed here is published: blobs first, the record last.
 *
 * The remote never decides a result wrongly: a record whose manifest fingerprint does not hash
 * to its key, a blob whose bytes do not match, a record with missing blobs are all misses
 * with a warning naming the URL (and digest), and the stage is computed locally. When the
 * server cannot be used at all (unreachable, timing out, 5xx) the cache warns once and goes
 * on with the local tier only.
 *
 * @module
 */
import type { Fingerprint } from "../rebuilder/fingerprint.ts";
import type { Cache, LocalCache, TraceOrigin } from "./cache.ts";
import type { Manifest } from "./manifest.ts";
import type { ObjectState, VerifyOptions } from "./objects.ts";
import { isRemoteUnavailable, RemoteDigestMismatchError } from "./remote/errors.ts";
import type { HttpRemote } from "./remote/http_remote.ts";
import type { RemoteRecord } from "./remote/record.ts";
import type { Trace } from "./trace.ts";

/** How the two tiers are used. */
export interface TieredCacheOptions {
  local: LocalCache;
  remote: HttpRemote;
  /** `pull`: download remote hits into the local tier; `peek`: only report them. */
  mode: "pull" | "peek";
  /** Publish every trace computed here. */
  push: boolean;
  /** Where downloads in progress go: on the local store's file system (taken by rename). */
  incomingDir: string;
  /** Receives the warnings (one line each). */
  onWarning(message: string): void;
  /** The cache key of a fingerprint: a record is believed only when its own one matches. */
  keyOf(fingerprint: Fingerprint): string;
}

/** What moved between the tiers. */
export interface TransferCounts {
  /** Stage results (records). */
  results: number;
  /** Blobs that had to move (those already at the destination are not counted). */
  blobs: number;
  bytes: number;
}

/** The local tier first, the remote behind it. */
export class TieredCache implements Cache {
  readonly #o: TieredCacheOptions;
  readonly #origins = new Map<string, TraceOrigin>();
  /** Digests seen on the server in `peek` mode (HEAD-checked by `lookup`). */
  readonly #remoteBlobs = new Set<string>();
  /** Blobs whose server copy was rejected: a push replaces them. */
  readonly #rejected = new Set<string>();
  #unavailable = false;
  #pushOff = false;
  /** What this cache downloaded and uploaded. */
  readonly pulled: TransferCounts = { results: 0, blobs: 0, bytes: 0 };
  readonly pushed: TransferCounts = { results: 0, blobs: 0, bytes: 0 };

  constructor(options: TieredCacheOptions) {
    this.#o = options;
  }

  /** The remote's base URL. */
  get url(): string {
    return this.#o.remote.url;
  }

  async getTrace(key: string, options?: { localOnly?: boolean }): Promise<Trace | undefined> {
    const local = await this.#o.local.getTrace(key);
    if (local || options?.localOnly || this.#unavailable) return local;
    return await this.#fromRemote(key);
  }

  async putTrace(trace: Trace, run?: { manifest: Manifest }): Promise<void> {
    await this.#o.local.putTrace(trace);
    if (!this.#o.push || !run || this.#unavailable || this.#pushOff) return;
    try {
      await this.push(trace, run.manifest);
    } catch (error) {
      if (!this.#remoteFailed(error)) {
        this.#pushOff = true;
        this.#o.onWarning(`${(error as Error).message}; not pushing the rest of this run`);
      }
    }
  }

  /**
   * Publishes `trace` (whose objects are in the local store) with the manifest of its run:
   * the blobs the server lacks, then the record. Throws the remote's errors.
   */
  async push(trace: Trace, manifest: Manifest | Record<string, unknown>): Promise<TransferCounts> {
    const record: RemoteRecord = {
      format: "pipeline-remote-record/1",
      key: trace.key,
      outputs: trace.outputs,
      ...(trace.metrics === undefined ? {} : { metrics: trace.metrics }),
      manifest: manifest as Record<string, unknown>,
    };
    const blobPath = (digest: string) => this.#o.local.objectPath(digest);
    const repaired = [...new Set(Object.values(trace.outputs))].filter((d) =>
      this.#rejected.has(d)
    );
    for (const digest of repaired) {
      await this.#o.remote.putBlob(digest, blobPath(digest));
      this.#rejected.delete(digest);
    }
    const uploaded = [...repaired, ...(await this.#o.remote.push(record, { blobPath })).uploaded];
    let bytes = 0;
    for (const digest of uploaded) bytes += (await Deno.stat(blobPath(digest))).size;
    const moved = { results: 1, blobs: uploaded.length, bytes };
    add(this.pushed, moved);
    return moved;
  }

  verify(digest: string, o?: VerifyOptions): Promise<ObjectState> {
    return this.#o.local.verify(digest, o).then((state) =>
      state !== "ok" && this.#remoteBlobs.has(digest) ? "ok" : state
    );
  }

  putObject(path: string): Promise<string> {
    return this.#o.local.putObject(path);
  }

  materialize(digest: string, dest: string): Promise<void> {
    return this.#o.local.materialize(digest, dest);
  }

  flush(): Promise<void> {
    return this.#o.local.flush();
  }

  origin(key: string): TraceOrigin | undefined {
    return this.#origins.get(key);
  }

  /** The remote's result for `key`, downloaded (pull) or only noted (peek); undefined on a miss. */
  async #fromRemote(key: string): Promise<Trace | undefined> {
    const { remote, mode } = this.#o;
    try {
      const found = await remote.lookup(key);
      if (!found.hit) return undefined;
      const trace = traceOf(found.record, { url: remote.recordUrl(key), keyOf: this.#o.keyOf });
      if ("problem" in trace) {
        this.#o.onWarning(`remote cache: treating as a miss: ${trace.problem}`);
        return undefined;
      }
      if (mode === "pull" && !await this.#download(trace.trace)) return undefined;
      if (mode === "peek") {
        for (const d of Object.values(trace.trace.outputs)) this.#remoteBlobs.add(d);
      }
      this.#origins.set(key, { url: remote.recordUrl(key), pulled: mode === "pull" });
      return trace.trace;
    } catch (error) {
      if (error instanceof RemoteDigestMismatchError) this.#rejected.add(error.expected);
      if (!this.#remoteFailed(error)) {
        this.#o.onWarning(`${(error as Error).message}; computing it locally`);
      }
      return undefined;
    }
  }

  /** Downloads the blobs of `trace` missing locally, then writes the trace; false on a miss. */
  async #download(trace: Trace): Promise<boolean> {
    const { local, remote } = this.#o;
    const moved = { results: 1, blobs: 0, bytes: 0 };
    for (const digest of new Set(Object.values(trace.outputs))) {
      if (await local.verify(digest) === "ok") continue;
      const path = await remote.getBlob(digest, { dir: this.#o.incomingDir });
      if (!path) {
        this.#o.onWarning(
          `remote cache: treating as a miss: blob ${remote.blobUrl(digest)} vanished after ` +
            `the lookup of ${remote.recordUrl(trace.key)}`,
        );
        return false;
      }
      moved.bytes += (await Deno.stat(path)).size;
      moved.blobs++;
      await local.putObject(path);
    }
    await local.putTrace(trace);
    add(this.pulled, moved);
    return true;
  }

  /**
   * For an error meaning the remote cannot be used now: warns once (naming the URL) and turns
   * the remote tier off for the rest of this cache's life; true then.
   */
  #remoteFailed(error: unknown): boolean {
    if (!isRemoteUnavailable(error)) return false;
    if (!this.#unavailable) {
      this.#unavailable = true;
      this.#o.onWarning(
        `${(error as Error).message}; going on with the local cache only (remote ${this.url})`,
      );
    }
    return true;
  }
}

/** The trace a record stands for, when its manifest's fingerprint hashes to its key. */
function traceOf(
  record: RemoteRecord,
  o: { url: string; keyOf(fingerprint: Fingerprint): string },
): { trace: Trace } | { problem: string } {
  const { url } = o;
  const fingerprint = record.manifest.fingerprint as Fingerprint | undefined;
  if (typeof fingerprint !== "object" || fingerprint === null) {
    return { problem: `${url}: manifest.fingerprint: missing; expected the run's fingerprint` };
  }
  const actual = o.keyOf(fingerprint);
  if (actual !== record.key) {
    return {
      problem: `${url}: manifest.fingerprint hashes to ${actual}, not to the record's key`,
    };
  }
  const trace: Trace = { key: record.key, fingerprint, outputs: record.outputs };
  if (record.metrics !== undefined) trace.metrics = record.metrics;
  return { trace };
}

function add(total: TransferCounts, moved: TransferCounts): void {
  total.results += moved.results;
  total.blobs += moved.blobs;
  total.bytes += moved.bytes;
}
