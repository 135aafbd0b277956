/**
 * Reads a config file and everything it `extends:`, merges them, applies `--set` overrides,
 * and remembers where every value came from so errors can name a file and line.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import { ConfigError, didYouMean, oneOf, type Origin, show } from "./errors.ts";
import type { SetOverride } from "./set.ts";
import { checkConfigSize, checkStageCount, findLongList, longListError } from "./limits.ts";

/** A key path into the config, e.g. `["stages", "train", "with", "steps"]`. */
export type KeyPath = readonly (string | number)[];

/** The merged config and the origin of each of its values. */
export interface ConfigSource {
  /** The top config file, as given. */
  file: string;
  /** The merged config with `extends:` removed and every `--set` applied. */
  value: Record<string, unknown>;
  /** Where the value at `path` (or its nearest defined ancestor) came from. */
  originOf(path: KeyPath): Origin;
  /** The files of the `extends:` chain, base first (the top file last). */
  files: string[];
  /** The text of each of `files`, as read: what `value` was parsed from. */
  texts: string[];
}

interface Layer {
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
  /** The document as plain data. */
  value: Record<string, unknown>;
}

/**
 * Loads `file`, its `extends:` chain (paths relative to the extending file; maps deep-merged,
 * scalars and lists overridden) and the `--set` overrides, in that order of priority.
 */
export async function readConfigSource(
  file: string,
  sets: readonly SetOverride[],
): Promise<ConfigSource> {
  const layers = await readLayers(file, []);
  let value: Record<string, unknown> = {};
  for (const layer of layers) {
    const { extends: _, ...rest } = layer.value;
    value = deepMerge(value, rest) as Record<string, unknown>;
  }
  const originOf = (path: KeyPath) => findOrigin(file, layers, sets, path);
  for (const set of sets) applySet(value, set, file);
  if (isPlainObject(value.stages)) {
    checkStageCount(originOf(["stages"]), Object.keys(value.stages).length);
  }
  const long = findLongList(value);
  if (long) throw longListError(originOf(long.path), long);
  return {
    file,
    value,
    originOf,
    files: layers.map((l) => l.file),
    texts: layers.map((l) => l.text),
  };
}

async function readLayers(file: string, chain: readonly string[]): Promise<Layer[]> {
  let text: string;
  try {
    const info = await Deno.stat(file);
    if (info.isDirectory) {
      throw new ConfigError({ file }, undefined, "is a directory; expected a YAML config file");
    }
    checkConfigSize(file, info.size);
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError({ file }, undefined, `cannot read config: ${(e as Error).message}`);
  }
  const lines = new LineCounter();
  // yaml's own duplicate-key check compares each key with every earlier one (quadratic in a
  // map's size); `firstDuplicateKey` does it with a set.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: true,
    merge: true,
    uniqueKeys: false,
  });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0];
    const reason = err.message.split(" at line ")[0];
    throw new ConfigError(
      { file, line: pos?.line },
      undefined,
      `malformed YAML: ${reason}${pos ? ` (column ${pos.col})` : ""}; expected valid YAML`,
    );
  }
  const dup = firstDuplicateKey(doc);
  if (dup) {
    throw new ConfigError(
      { file, line: lines.linePos(dup.offset).line },
      undefined,
      `malformed YAML: Map keys must be unique ("${dup.key}" appears twice); expected valid YAML`,
    );
  }
  if (!isMap(doc.contents)) {
    const found = doc.contents === null ? "an empty file" : show(doc.toJS());
    throw new ConfigError(
      { file, line: 1 },
      undefined,
      `found ${found}; expected a map with a "stages:" key`,
    );
  }
  const layer = { file, text, doc, lines, value: plainValue(file, doc, lines) };
  const base = layer.value.extends;
  if (base === undefined) return [layer];
  const extendsOrigin = { file, line: lineOf(layer, doc.getIn(["extends"], true) as Node) };
  if (typeof base !== "string" || base === "") {
    throw new ConfigError(
      extendsOrigin,
      "extends",
      `found ${show(base)}; expected a YAML file path`,
    );
  }
  const basePath = join(dirname(file), base);
  const here = [...chain, file];
  if (here.some((f) => resolve(f) === resolve(basePath))) {
    const cycle = [
      ...here.slice(here.findIndex((f) => resolve(f) === resolve(basePath))),
      basePath,
    ];
    throw new ConfigError(
      extendsOrigin,
      "extends",
      `extends cycle: ${cycle.join(" -> ")}; expected a chain that ends`,
    );
  }
  try {
    await Deno.stat(basePath);
  } catch {
    throw new ConfigError(
      extendsOrigin,
      "extends",
      `file ${basePath} not found; expected a path relative to ${file}`,
    );
  }
  return [...await readLayers(basePath, here), layer];
}

/**
 * The document as plain data. yaml refuses documents whose aliases would expand beyond a
 * limit (a "billion laughs" alias bomb); that becomes a ConfigError at the first alias.
 */
function plainValue(file: string, doc: Document, lines: LineCounter): Record<string, unknown> {
  try {
    return doc.toJS() as Record<string, unknown>;
  } catch (e) {
    let offset: number | undefined;
    visit(doc, {
      Alias(_, alias) {
        offset = alias.range?.[0];
        return visit.BREAK;
      },
    });
    throw new ConfigError(
      { file, line: offset === undefined ? undefined : lines.linePos(offset).line },
      undefined,
      `cannot expand the YAML: ${(e as Error).message}; expected aliases (*name) that ` +
        `expand to a config of reasonable size`,
    );
  }
}

/** The first key (and its offset) that repeats an earlier key of the same map. */
function firstDuplicateKey(doc: Document): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          found = { key: String(pair.key.value), offset: pair.key.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
    },
  });
  return found;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function applySet(value: Record<string, unknown>, set: SetOverride, file: string): void {
  const stages = value.stages;
  if (!isPlainObject(stages)) return; // loadPipeline reports the malformed `stages:` itself
  const name = set.path[1];
  if (!(name in stages)) {
    const known = Object.keys(stages);
    throw new ConfigError(
      { file, set: set.arg },
      `stages.${name}`,
      `no such stage; expected ${oneOf(known)}${didYouMean(name, known)}`,
    );
  }
  let node: Record<string, unknown> = value;
  for (const key of set.path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[set.path[set.path.length - 1]] = set.value;
}

function findOrigin(
  file: string,
  layers: readonly Layer[],
  sets: readonly SetOverride[],
  path: KeyPath,
): Origin {
  for (const set of [...sets].reverse()) {
    if (set.path.length <= path.length && set.path.every((k, i) => String(path[i]) === k)) {
      return { file, set: set.arg };
    }
  }
  let best: Origin = { file };
  let bestDepth = -1;
  for (const layer of [...layers].reverse()) {
    const found = walk(layer, path);
    if (found.depth === path.length || found.overrides) {
      return { file: layer.file, line: found.line };
    }
    if (found.depth > bestDepth) {
      best = { file: layer.file, line: found.line };
      bestDepth = found.depth;
    }
  }
  return best;
}

/**
 * Follows `path` into a layer's YAML tree. Returns how deep it got, the line of the deepest
 * key or item reached, and whether that node is a scalar or list that replaced everything
 * below it (so lower-priority layers cannot be the origin).
 */
function walk(layer: Layer, path: KeyPath): { depth: number; line?: number; overrides: boolean } {
  let node: unknown = layer.doc.contents;
  let line: number | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return { depth, line, overrides: false };
      line = lineOf(layer, (pair.key ?? pair.value) as Node);
      node = pair.value;
    } else if (isSeq(node) && Number.isInteger(Number(key))) {
      const item = node.items[Number(key)];
      if (!item) return { depth, line, overrides: true };
      line = lineOf(layer, item as Node);
      node = item;
    } else {
      return { depth, line, overrides: depth > 0 };
    }
  }
  return { depth: path.length, line, overrides: true };
}

function lineOf(layer: Layer, node: Node | null | undefined): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : layer.lines.linePos(start).line;
}
