/**
 * The import graph of a stage's modules, from `deno info --json`: the digest of every local
 * module it reaches and the resolved version of every npm package it loads.
 *
 * A `deno info` subprocess costs 25–100 ms, too much for a no-op run, so results are kept
 * between runs in a small file and reused while every module of the graph, `deno.json` and
 * `deno.lock` still have the size and mtime they had (as git's index trusts unchanged stats).
 * Any edit to a module changes its stat, so the graph (new imports included) is recomputed.
 *
 * One process keeps one {@link ModuleGraphs} per saved file ({@link moduleGraphs}): the configs
 * a command loads and the runs it starts (the experiments of a sweep) ask for the same graphs,
 * and each is computed once, however many ask at the same moment. Graphs asked for within a few
 * milliseconds of each other (a config's dozen root modules) come from one `deno info` of a
 * module importing them all, each root's graph being what that output reaches from it.
 *
 * @module
 */
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { engineHome } from "../store/layout.ts";
import { sha256Hex } from "../../common/sha256.ts";
import { readStateOrWarn } from "../store/state_file.ts";
import { savedGraphsSchema } from "../store/state_schemas.ts";
import { StateWriter } from "../store/state_writer.ts";

/** What a set of root modules depends on. */
export interface ModuleGraph {
  /** Local module label (path relative to the project root, or `engine:` + path) → sha256. */
  modules: Record<string, string>;
  /** npm package name → resolved version(s), comma-separated when several are loaded. */
  npm: Record<string, string>;
}

interface DenoInfoModule {
  kind?: string;
  specifier: string;
  local?: string;
  npmPackage?: string;
  error?: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

interface DenoInfoNpmPackage {
  name: string;
  version: string;
  dependencies?: string[];
}

interface DenoInfo {
  modules: DenoInfoModule[];
  redirects?: Record<string, string>;
  npmPackages?: Record<string, DenoInfoNpmPackage>;
}

/** Root modules that one `deno info` is about to be asked about, and its answer by root. */
interface InfoBatch {
  files: string[];
  info: Promise<Map<string, Promise<DenoInfo>>>;
}

/**
 * How long graphs wait before `deno info` starts, so that the roots asked for meanwhile (every
 * kind a config uses, both of its modules) share the one subprocess.
 */
const GATHER_MS = 5;

/** A graph as kept between runs, with the stats it is valid for. */
interface SavedGraph {
  /** Absolute path → `size:mtime` of every local module, deno.json and deno.lock. */
  stats: Record<string, string>;
  graph: ModuleGraph;
}

const shared = new Map<string, ModuleGraphs>();

/**
 * This process's graphs of `root` kept in `savePath`: the same instance for every caller
 * (without `savePath`, a new one each time).
 */
export function moduleGraphs(root: string, savePath?: string): ModuleGraphs {
  if (savePath === undefined) return new ModuleGraphs(root);
  const id = `${root}\0${savePath}`;
  let graphs = shared.get(id);
  if (!graphs) shared.set(id, graphs = new ModuleGraphs(root, savePath));
  return graphs;
}

/** Computes module graphs, reusing saved ones whose files are unchanged. */
export class ModuleGraphs {
  #root: string;
  #writer: StateWriter | undefined;
  #saved: Promise<Record<string, SavedGraph>>;
  /** Graphs being found now, by root module: callers at the same time share one. */
  #finding = new Map<string, Promise<ModuleGraph>>();
  /** Path → the `size:mtime` a module had when hashed, and its sha256 (graphs share modules). */
  #digests = new Map<string, { stat: string; sha256: string }>();
  /** Root modules gathered for the next `deno info`. */
  #batch: InfoBatch | undefined;

  /**
   * `root` is the project root that module labels are relative to; `savePath`, when given,
   * is the file graphs are kept in between runs.
   */
  constructor(root: string, savePath?: string) {
    this.#root = root;
    this.#writer = savePath
      ? new StateWriter(savePath, async () => JSON.stringify(await this.#saved))
      : undefined;
    this.#saved = savePath
      ? readStateOrWarn(savePath, savedGraphsSchema, "ignored (module graphs are recomputed)")
        .then((g) => (g ?? {}) as Record<string, SavedGraph>)
      : Promise.resolve({});
  }

  /** Writes the graphs computed in this run for the next one. */
  async save(): Promise<void> {
    await this.#writer?.save();
  }

  /** The merged graph of several root modules (e.g. a kind's `kind.ts` and `run.ts`). */
  async of(files: string[]): Promise<ModuleGraph> {
    const graphs = await Promise.all(files.map((f) => this.#one(f)));
    const merged: ModuleGraph = { modules: {}, npm: {} };
    for (const g of graphs) {
      Object.assign(merged.modules, g.modules);
      for (const [name, version] of Object.entries(g.npm)) {
        const versions = new Set([...(merged.npm[name]?.split(",") ?? []), ...version.split(",")]);
        merged.npm[name] = [...versions].sort().join(",");
      }
    }
    return merged;
  }

  /** The graph of `file`: saved (while its files are unchanged), or computed now. */
  #one(file: string): Promise<ModuleGraph> {
    let graph = this.#finding.get(file);
    if (!graph) {
      graph = this.#reuseOrCompute(file).finally(() => this.#finding.delete(file));
      this.#finding.set(file, graph);
    }
    return graph;
  }

  async #reuseOrCompute(file: string): Promise<ModuleGraph> {
    const saved = (await this.#saved)[file];
    if (saved && statsMatch(saved.stats)) return saved.graph;
    const info = reachable(pathToFileURL(file).href, await (await this.#infoOf(file)).get(file)!);
    const paths = [join(engineHome, "deno.json"), join(engineHome, "deno.lock")];
    const graph = this.#digest(info, paths);
    (await this.#saved)[file] = { stats: statsOf(paths), graph };
    this.#writer?.changed();
    return graph;
  }

  /** `deno info` of `file` together with the other roots asked for within {@link GATHER_MS}. */
  #infoOf(file: string): Promise<Map<string, Promise<DenoInfo>>> {
    if (!this.#batch) {
      const files: string[] = [];
      const info = new Promise((wake) => setTimeout(wake, GATHER_MS)).then(() => {
        this.#batch = undefined;
        return denoInfoOf(files);
      });
      this.#batch = { files, info };
    }
    this.#batch.files.push(file);
    return this.#batch.info;
  }

  /** Digests the local modules of `info` (adding their paths to `paths`) and npm closure. */
  #digest(info: DenoInfo, paths: string[]): ModuleGraph {
    const modules: Record<string, string> = {};
    const roots: string[] = [];
    for (const m of info.modules) {
      if (m.kind === "npm" && m.npmPackage) roots.push(m.npmPackage);
      if (!m.specifier.startsWith("file:")) continue;
      const path = m.local ?? fileURLToPath(m.specifier);
      paths.push(path);
      modules[this.#label(path)] = this.#sha256(path) ?? `missing: ${m.error ?? "unreadable"}`;
    }
    return { modules, npm: npmClosure(roots, info.npmPackages ?? {}) };
  }

  /**
   * The sha256 of a module, hashed once while its stat is unchanged; undefined when unreadable.
   * Synchronous, as `statOf`: the modules are small, and a sweep's start digests hundreds.
   */
  #sha256(path: string): string | undefined {
    const stat = statOf(path);
    const known = this.#digests.get(path);
    if (known?.stat === stat) return known.sha256;
    try {
      const sha256 = sha256Hex(Deno.readFileSync(path));
      this.#digests.set(path, { stat, sha256 });
      return sha256;
    } catch {
      return undefined;
    }
  }

  /** Labels are relative so that the same code in another checkout gives the same key. */
  #label(path: string): string {
    const inRoot = relative(this.#root, path);
    if (!inRoot.startsWith("..") && !isAbsolute(inRoot)) return inRoot;
    const inEngine = relative(engineHome, path);
    if (!inEngine.startsWith("..") && !isAbsolute(inEngine)) return `engine:${inEngine}`;
    return path;
  }
}

// Synchronous: a no-op run checks a few hundred of these, and one async stat's round trip
// through the event loop costs several times the stat itself.
function statOf(path: string): string {
  try {
    const info = Deno.statSync(path);
    return `${info.size}:${info.mtime?.getTime()}`;
  } catch {
    return "missing";
  }
}

function statsOf(paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, statOf(p)]));
}

function statsMatch(stats: Record<string, string>): boolean {
  return Object.entries(stats).every(([path, stat]) => statOf(path) === stat);
}

/** Every package reachable from `roots` through the dependency lists deno reports. */
function npmClosure(
  roots: string[],
  packages: Record<string, DenoInfoNpmPackage>,
): Record<string, string> {
  const seen = new Set<string>();
  const todo = [...roots];
  const versions: Record<string, Set<string>> = {};
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const pkg = packages[id];
    if (!pkg) continue;
    (versions[pkg.name] ??= new Set()).add(pkg.version);
    todo.push(...(pkg.dependencies ?? []));
  }
  return Object.fromEntries(
    Object.entries(versions).map(([name, v]) => [name, [...v].sort().join(",")]),
  );
}

/**
 * `deno info` of each of `files`: one subprocess for all of them, of a temporary module importing
 * each. A root that this leaves unresolved (a missing file, say), or all of them when that
 * subprocess fails, is asked alone, so that its error is the one `deno info` gives for it.
 */
async function denoInfoOf(files: string[]): Promise<Map<string, Promise<DenoInfo>>> {
  const unique = [...new Set(files)];
  const found = new Map<string, Promise<DenoInfo>>();
  if (unique.length > 1) {
    const urls = unique.map((f) => pathToFileURL(f).href);
    const info = await denoInfoOfImports(urls).catch(() => undefined); // else each alone, below
    const resolved = new Set(info?.modules.filter((m) => !m.error).map((m) => m.specifier));
    unique.forEach((f, i) => info && resolved.has(urls[i]) && found.set(f, Promise.resolve(info)));
  }
  for (const f of unique) if (!found.has(f)) found.set(f, denoInfo(f));
  return found;
}

/** `deno info` of a temporary module that imports each of `urls`. */
async function denoInfoOfImports(urls: string[]): Promise<DenoInfo> {
  const dir = await Deno.makeTempDir({ prefix: "module_graphs_" });
  try {
    const all = join(dir, "all.ts");
    await Deno.writeTextFile(all, urls.map((u) => `import ${JSON.stringify(u)};\n`).join(""));
    return await denoInfo(all);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The part of `info` that `root` reaches through its imports (code and type, static and
 * dynamic, after redirects): what `deno info` of `root` alone lists, in the same order.
 */
function reachable(root: string, info: DenoInfo): DenoInfo {
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [root];
  while (todo.length) {
    const asked = todo.pop()!;
    const specifier = info.redirects?.[asked] ?? asked;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      for (const next of [dep.code?.specifier, dep.type?.specifier]) if (next) todo.push(next);
    }
  }
  return { ...info, modules: info.modules.filter((m) => seen.has(m.specifier)) };
}

/** Runs `deno info --json` with the engine's import map (bare specifiers resolve as in runs). */
async function denoInfo(file: string): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${engineHome}/deno.json`, file],
    cwd: engineHome,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno info failed for ${file}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
