/**
 * The `Cache` the rebuilder asks for results: by cache key, the trace a stage run with that
 * key recorded (its outputs → digests), and the objects those digests name. `LocalCache` is
 * the project's own `artifacts/cache/` + `artifacts/objects/`; a remote cache (blobs by sha256,
 * one record per key) implements the same interface and can sit in front of or behind it.
 *
 * @module
 */
import type { Manifest } from "./manifest.ts";
import type { LocalStore, ObjectState, VerifyOptions } from "./objects.ts";
import { readTrace, type Trace, writeTrace } from "./trace.ts";

/** Where results are looked up by cache key and stored after a run. */
export interface Cache {
  /**
   * The trace recorded for `key`, undefined on a miss. A cache with a remote tier asks it on a
   * local miss unless `localOnly` (e.g. for a past run's fingerprint, never worth a download).
   */
  getTrace(key: string, options?: { localOnly?: boolean }): Promise<Trace | undefined>;
  /**
   * Records a trace; called only after every object it names is stored. `run` is the
   * manifest of the run that produced it, when it was just computed (a remote tier publishes it).
   */
  putTrace(trace: Trace, run?: { manifest: Manifest }): Promise<void>;
  /** Whether the object exists with exactly the bytes its digest names. */
  verify(digest: string, o?: VerifyOptions): Promise<ObjectState>;
  /** Moves the file at `path` into the cache (the file is consumed); returns its sha256. */
  putObject(path: string): Promise<string>;
  /** Makes the object readable at `dest`, replacing what is there. */
  materialize(digest: string, dest: string): Promise<void>;
  /** Persists what was learnt during the run (e.g. verification memos). */
  flush(): Promise<void>;
  /** Where the trace of `key` came from when not from the local disk (a remote tier's note). */
  origin?(key: string): TraceOrigin | undefined;
}

/** A trace found in a remote cache: downloaded (`pulled`) or only seen there. */
export interface TraceOrigin {
  /** The URL of the record. */
  url: string;
  pulled: boolean;
}

/** The cache on the local disk: traces in `cacheDir`, objects in `store`. */
export class LocalCache implements Cache {
  readonly #cacheDir: string;
  readonly #store: LocalStore;

  /** `cacheDir` is `artifacts/cache`; `store` keeps the objects. */
  constructor(cacheDir: string, store: LocalStore) {
    this.#cacheDir = cacheDir;
    this.#store = store;
  }

  getTrace(key: string): Promise<Trace | undefined> {
    return readTrace(this.#cacheDir, key);
  }

  putTrace(trace: Trace): Promise<void> {
    return writeTrace(this.#cacheDir, trace);
  }

  verify(digest: string, o?: VerifyOptions): Promise<ObjectState> {
    return this.#store.verify(digest, o);
  }

  putObject(path: string): Promise<string> {
    return this.#store.put(path);
  }

  materialize(digest: string, dest: string): Promise<void> {
    return this.#store.materialize(digest, dest);
  }

  /** The file holding the object `digest` (read-only; to upload it). */
  objectPath(digest: string): string {
    return this.#store.path(digest);
  }

  flush(): Promise<void> {
    return this.#store.flush();
  }
}
