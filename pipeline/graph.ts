/**
 * The import graph of a stage's modules, from `deno info --json`: the digest of every local
 * module it reaches and the resolved version of every npm package it loads. One `deno info`
 * per root module per engine run (results are cached in the `ModuleGraphs` instance).
 *
 * @module
 */
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { engineHome } from "./paths.ts";
import { sha256Hex } from "../stages/lib/sha256.ts";

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
}

interface DenoInfoNpmPackage {
  name: string;
  version: string;
  dependencies?: string[];
}

interface DenoInfo {
  modules: DenoInfoModule[];
  npmPackages?: Record<string, DenoInfoNpmPackage>;
}

/** Computes and caches module graphs for one engine run. */
export class ModuleGraphs {
  #root: string;
  #infos = new Map<string, Promise<ModuleGraph>>();

  /** `root` is the project root that module labels are relative to. */
  constructor(root: string) {
    this.#root = root;
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

  #one(file: string): Promise<ModuleGraph> {
    let graph = this.#infos.get(file);
    if (!graph) {
      graph = denoInfo(file).then((info) => this.#digest(info));
      this.#infos.set(file, graph);
    }
    return graph;
  }

  async #digest(info: DenoInfo): Promise<ModuleGraph> {
    const modules: Record<string, string> = {};
    const roots: string[] = [];
    await Promise.all(info.modules.map(async (m) => {
      if (m.kind === "npm" && m.npmPackage) roots.push(m.npmPackage);
      if (!m.specifier.startsWith("file:")) return;
      const path = m.local ?? fileURLToPath(m.specifier);
      const label = this.#label(path);
      try {
        modules[label] = sha256Hex(await Deno.readFile(path));
      } catch {
        modules[label] = `missing: ${m.error ?? "unreadable"}`;
      }
    }));
    return { modules, npm: npmClosure(roots, info.npmPackages ?? {}) };
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
