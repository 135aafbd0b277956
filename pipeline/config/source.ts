/**
 * Reads a config file and everything it `extends:`, merges them, applies `--set` overrides,
 * and remembers where every value came from so errors can name a file and line.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError, didYouMean, oneOf, type Origin, show } from "./errors.ts";
import type { SetOverride } from "./set.ts";

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
}

interface Layer {
  file: string;
  doc: Document;
  lines: LineCounter;
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
    const { extends: _, ...rest } = layer.doc.toJS() as Record<string, unknown>;
    value = deepMerge(value, rest) as Record<string, unknown>;
  }
  const originOf = (path: KeyPath) => findOrigin(file, layers, sets, path);
  for (const set of sets) applySet(value, set, file);
  return { file, value, originOf };
}

async function readLayers(file: string, chain: readonly string[]): Promise<Layer[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new ConfigError({ file }, undefined, `cannot read config: ${(e as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, merge: true });
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
  if (!isMap(doc.contents)) {
    const found = doc.contents === null ? "an empty file" : show(doc.toJS());
    throw new ConfigError(
      { file, line: 1 },
      undefined,
      `found ${found}; expected a map with a "stages:" key`,
    );
  }
  const layer = { file, doc, lines };
  const base = (doc.toJS() as Record<string, unknown>).extends;
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
