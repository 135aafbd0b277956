/**
 * Content-addressed object store: each artifact file is kept once, named by its sha256.
 *
 * `ObjectStore` is the small interface the engine uses; `LocalStore` keeps objects under
 * `artifacts/objects/<2 hex>/<64 hex>` (a remote cache could implement the same interface).
 * Objects enter by rename (never half-written), are made read-only, and are verified against
 * their name when read. Re-hashing big files on every no-op run would be slow, so, like git's
 * index, a verified object's (size, mtime, ctime, inode) is remembered and trusted until it
 * changes. The ctime (nanoseconds) catches a rewrite whose mtime was put back: no user process
 * can restore a ctime. Where a wrong byte would be kept or compared, the memo is bypassed and
 * the object re-hashed (`verify(digest, { content: true })`): when a rerun stores an output
 * whose object already exists, in `check`, and in `pipeline verify`. Damage that touches no
 * inode field (the disk itself) is found by `pipeline verify`, which re-hashes everything.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { dirEntries } from "../../common/dir_entries.ts";
import { sha256File } from "../../common/sha256.ts";
import { stat } from "node:fs/promises";
import { readStateOrWarn } from "./state_file.ts";
import { verifyMemoSchema } from "./state_schemas.ts";
import { StateWriter } from "./state_writer.ts";

/** Result of checking an object against its digest. */
export type ObjectState = "ok" | "missing" | "corrupt";

/** How hard to check an object. */
export interface VerifyOptions {
  /** Re-hash the bytes even when the memo says the object is unchanged since it was hashed. */
  content?: boolean;
}

/** Where the engine keeps artifact bytes. */
export interface ObjectStore {
  /** Moves the file at `path` into the store (the file is consumed); returns its sha256. */
  put(path: string): Promise<string>;
  /** Whether the object exists with exactly the bytes its digest names. */
  verify(digest: string, o?: VerifyOptions): Promise<ObjectState>;
  /** Makes the object readable at `dest` (hardlink, else copy), replacing what is there. */
  materialize(digest: string, dest: string): Promise<void>;
  /** True when `path` already is this object (same inode), so nothing needs linking. */
  isMaterialized(digest: string, path: string): Promise<boolean>;
  /** Every stored object with its size in bytes. */
  list(): AsyncIterable<{ digest: string; size: number }>;
  /** Deletes an object. */
  remove(digest: string): Promise<void>;
  /** Persists what was learnt during this run (verification memo). */
  flush(): Promise<void>;
}

const DIGEST = /^[0-9a-f]{64}$/;

/** The object store on the local disk. */
export class LocalStore implements ObjectStore {
  #dir: string;
  #memoPath: string;
  #memo: Promise<Record<string, string>> | undefined;
  #memoWriter: StateWriter;
  /** Checks by the memo under way, by digest: runs asking at once share one (one hash). */
  #checking = new Map<string, Promise<ObjectState>>();

  /** `dir` is `artifacts/objects`. */
  constructor(dir: string) {
    this.#dir = dir;
    this.#memoPath = join(dir, "verified.json");
    this.#memoWriter = new StateWriter(
      this.#memoPath,
      async () => JSON.stringify(await this.#loadMemo()),
    );
  }

  /** The file path of an object. */
  path(digest: string): string {
    return join(this.#dir, digest.slice(0, 2), digest);
  }

  /**
   * An object that already exists is kept only when its bytes still hash to its name (checked
   * by content, not by the memo); a corrupt one is replaced by the new file.
   */
  async put(path: string): Promise<string> {
    const digest = await sha256File(path);
    const target = this.path(digest);
    if (await this.verify(digest, { content: true }) === "ok") {
      await Deno.remove(path);
      return digest;
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.chmod(path, 0o444);
    await Deno.rename(path, target);
    await this.#remember(digest, target);
    return digest;
  }

  verify(digest: string, o: VerifyOptions = {}): Promise<ObjectState> {
    if (o.content) return this.#verify(digest, o);
    let check = this.#checking.get(digest);
    if (!check) {
      check = this.#verify(digest, o).finally(() => this.#checking.delete(digest));
      this.#checking.set(digest, check);
    }
    return check;
  }

  async #verify(digest: string, o: VerifyOptions): Promise<ObjectState> {
    if (!DIGEST.test(digest)) return "missing";
    const target = this.path(digest);
    let before: Stamp;
    try {
      before = await stamp(target);
    } catch {
      return "missing";
    }
    const memo = await this.#loadMemo();
    if (!o.content && trusted(memo[digest], before)) return "ok";
    if (await sha256File(target) !== digest) {
      if (digest in memo) {
        delete memo[digest];
        this.#memoWriter.changed();
      }
      return "corrupt";
    }
    memo[digest] = memoEntry(before);
    this.#memoWriter.changed();
    return "ok";
  }

  async materialize(digest: string, dest: string): Promise<void> {
    await Deno.mkdir(dirname(dest), { recursive: true });
    await Deno.remove(dest).catch(() => {});
    try {
      await Deno.link(this.path(digest), dest);
    } catch {
      await Deno.copyFile(this.path(digest), dest);
    }
  }

  async isMaterialized(digest: string, path: string): Promise<boolean> {
    try {
      const [a, b] = await Promise.all([Deno.stat(this.path(digest)), Deno.stat(path)]);
      return a.ino !== null && a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }

  async *list(): AsyncIterable<{ digest: string; size: number }> {
    for (const shard of (await dirEntries(this.#dir)).filter((s) => s.isDirectory)) {
      for (const entry of await dirEntries(join(this.#dir, shard.name))) {
        if (!DIGEST.test(entry.name)) continue;
        const info = await Deno.stat(join(this.#dir, shard.name, entry.name));
        yield { digest: entry.name, size: info.size };
      }
    }
  }

  async remove(digest: string): Promise<void> {
    await Deno.remove(this.path(digest)).catch(() => {});
    const memo = await this.#loadMemo();
    if (digest in memo) {
      delete memo[digest];
      this.#memoWriter.changed();
    }
  }

  flush(): Promise<void> {
    return this.#memoWriter.save();
  }

  /** The memo, read once: callers at the same time get the same object (not one each). */
  #loadMemo(): Promise<Record<string, string>> {
    this.#memo ??= readStateOrWarn(
      this.#memoPath,
      verifyMemoSchema,
      "ignored (objects are re-hashed when next used)",
    ).then((memo) => memo ?? {});
    return this.#memo;
  }

  async #remember(digest: string, target: string): Promise<void> {
    const memo = await this.#loadMemo();
    memo[digest] = memoEntry(await stamp(target));
    this.#memoWriter.changed();
  }
}

/** What must stay the same for a verified object to be trusted without re-hashing. */
interface Stamp {
  /** `size:mtime(ns):ctime:inode`. */
  text: string;
  /** The ctime in whole seconds (the resolution Deno reports it with). */
  ctimeSec: bigint;
}

/** The stamp of the file at `path`; throws when it is missing. */
async function stamp(path: string): Promise<Stamp> {
  const s = await stat(path, { bigint: true });
  return { text: `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`, ctimeSec: s.ctimeNs / 10n ** 9n };
}

/** The memo entry of an object just hashed: its stamp and the second it was hashed in. */
function memoEntry(s: Stamp): string {
  return `${s.text}@${Math.floor(Date.now() / 1000)}`;
}

/**
 * Whether a memo entry vouches for a file with stamp `now`. As git's index does for "racily
 * clean" entries, an entry whose file changed (ctime) in the very second it was hashed is not
 * trusted: a later change in that second would leave the same stamp.
 */
function trusted(entry: string | undefined, now: Stamp): boolean {
  const at = entry?.lastIndexOf("@") ?? -1;
  if (at < 0 || entry!.slice(0, at) !== now.text) return false;
  return now.ctimeSec < BigInt(entry!.slice(at + 1) || "0");
}
