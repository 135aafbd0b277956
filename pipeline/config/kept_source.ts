/**
 * Parsed configs kept between runs, so that a no-op run does not load the YAML parser (loading
 * `yaml`, a CommonJS package, is ~30 ms of a ~0.2 s no-op run).
 *
 * An entry is the merged value `readConfigSource` made of a config and its `extends:` chain
 * (without `--set`), with the sha256 of the text of each file of the chain and the digest of the
 * YAML reader itself: the import graph of `source.ts` (its local modules and the `yaml` version,
 * from `ModuleGraphs`). It is reused only while all of those are the same, byte for byte; a
 * stat is never trusted. A kept source stands in only for a parse that succeeded: it knows no
 * lines, so a caller that meets a `ConfigError` with one parses the files again for the error.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { canonicalDigest } from "../../common/canonical_json.ts";
import { sha256Hex } from "../../common/sha256.ts";
import { fromWire, toWire } from "../permissions/wire.ts";
import type { ModuleGraphs } from "../rebuilder/module_graph.ts";
import { readStateOrWarn } from "../store/state_file.ts";
import type { ConfigSource } from "./source.ts";

/** The module that turns YAML files into a config's value. */
const READER = fileURLToPath(new URL("./source.ts", import.meta.url));

/** Configs kept at most (the newest kept). */
const KEPT_CONFIGS = 200;

const entrySchema = z.object({
  /** The top file as given (its `extends:` paths are relative to it). */
  file: z.string(),
  reader: z.string(),
  /** The chain, base first: each path as `readConfigSource` named it and its text's sha256. */
  files: z.array(z.object({ path: z.string(), sha256: z.string() })),
  /** The merged value, as `toWire` writes it. */
  value: z.string(),
});
const keptSchema = z.record(z.string(), entrySchema);

type Entry = z.infer<typeof entrySchema>;

/** A config's parsed source as kept between runs. */
export class KeptSources {
  readonly #path: string;
  readonly #graphs: ModuleGraphs;
  #kept?: Promise<Record<string, Entry>>;

  /** `path` is the file the sources are kept in; `graphs` digests the YAML reader. */
  constructor(path: string, graphs: ModuleGraphs) {
    this.#path = path;
    this.#graphs = graphs;
  }

  /**
   * The kept source of `file` when every file of its chain and the reader are unchanged, else
   * undefined. Its `originOf` names only the top file (no line).
   */
  async get(file: string): Promise<ConfigSource | undefined> {
    const entry = (await this.#read())[resolve(file)];
    if (!entry || entry.file !== file || entry.reader !== await this.#reader()) return undefined;
    const texts: string[] = [];
    for (const f of entry.files) {
      // Decoded as `readConfigSource` reads it: the value depends on the text alone.
      const text = await Deno.readTextFile(f.path).catch(() => undefined);
      if (text === undefined || textDigest(text) !== f.sha256) return undefined;
      texts.push(text);
    }
    return {
      file,
      value: fromWire(entry.value) as Record<string, unknown>,
      originOf: () => ({ file }),
      files: entry.files.map((f) => f.path),
      texts,
    };
  }

  /** Keeps `src` (parsed without `--set`) for the next run. */
  async keep(src: ConfigSource): Promise<void> {
    if (!plainData(src.value)) return; // it would not come back the same
    const entry: Entry = {
      file: src.file,
      reader: await this.#reader(),
      files: src.files.map((path, i) => ({ path, sha256: textDigest(src.texts[i]) })),
      value: toWire(src.value),
    };
    const kept = await this.#read();
    const key = resolve(src.file);
    if (canonicalDigest(kept[key] ?? null) === canonicalDigest(entry)) return;
    delete kept[key];
    kept[key] = entry;
    const newest = Object.entries(kept).slice(-KEPT_CONFIGS);
    try {
      await Deno.mkdir(dirname(this.#path), { recursive: true });
      await writeFileAtomic(this.#path, JSON.stringify(Object.fromEntries(newest)));
    } catch {
      return; // not kept (e.g. a read-only artifacts dir): the next load parses the files again
    }
    await this.#graphs.save(); // the reader's graph, when this load computed it
  }

  #read(): Promise<Record<string, Entry>> {
    this.#kept ??= readStateOrWarn(this.#path, keptSchema, "ignored (configs are parsed again)")
      .then((k) => k ?? {});
    return this.#kept;
  }

  async #reader(): Promise<string> {
    return canonicalDigest(await this.#graphs.of([READER]));
  }
}

function textDigest(text: string): string {
  return sha256Hex(new TextEncoder().encode(text));
}

/**
 * Whether `value` comes back from `fromWire(toWire(value))` as it is: objects, arrays, strings,
 * booleans, null and numbers other than -0, no object looking like a tagged number.
 */
function plainData(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(plainData);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "$number") return false;
  return Object.values(value).every(plainData);
}
