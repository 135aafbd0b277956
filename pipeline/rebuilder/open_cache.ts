/**
 * Opening the cache a command works against: the local one, or the local one with the remote
 * cache in force behind it (`TieredCache`).
 *
 * @module
 */
import { join } from "node:path";
import type { RemoteSettings } from "../config/remote.ts";
import { LocalCache } from "../store/cache.ts";
import type { Layout } from "../store/layout.ts";
import type { LocalStore } from "../store/objects.ts";
import { HttpRemote } from "../store/remote/http_remote.ts";
import { TieredCache } from "../store/tiered_cache.ts";
import { cacheKey } from "./fingerprint.ts";

/** What `openCache` needs. */
export interface OpenCacheOptions {
  layout: Layout;
  store: LocalStore;
  /** The remote in force; undefined: the local cache alone. */
  remote?: RemoteSettings;
  /** As `TieredCacheOptions.mode`. */
  mode: "pull" | "peek";
  /** Receives the remote's warnings. */
  onWarning(message: string): void;
}

/** The cache of a layout: `LocalCache`, or a `TieredCache` over it when a remote is in force. */
export function openCache(o: OpenCacheOptions): LocalCache | TieredCache {
  const local = new LocalCache(o.layout.cache, o.store);
  if (!o.remote) return local;
  return new TieredCache({
    local,
    remote: new HttpRemote({ url: o.remote.url, onWarning: o.onWarning }),
    mode: o.mode,
    push: o.remote.push,
    incomingDir: join(o.layout.tmp, "remote-incoming"),
    onWarning: o.onWarning,
    keyOf: cacheKey,
  });
}
