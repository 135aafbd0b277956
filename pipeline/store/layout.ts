/**
 * Where the engine lives and where a project keeps its configs, stages and artifacts.
 *
 * The engine home is found from this module's URL (never the cwd). The project root defaults
 * to the engine home and can be overridden with `--root` or `PIPELINE_ROOT`, which lets tests
 * run the real CLI on throw-away projects in temp dirs.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory holding `pipeline/`, `deno.json` and `node_modules/` of the engine. */
export const engineHome: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The Deno flags for a process the engine starts on its own code (a stage, a kind sandbox):
 * `--node-modules-dir=manual` once the engine's `node_modules/` has been set up (by
 * `deno install`, or by the engine's own start under `nodeModulesDir: auto`, which syncs it
 * with deno.lock first), so that the child does not check it against deno.lock again (~30 ms
 * per start); nothing before that.
 */
export function nodeModulesFlags(): string[] {
  try {
    Deno.statSync(`${engineHome}/node_modules/.deno/.setup-cache.bin`);
    return ["--node-modules-dir=manual"];
  } catch {
    return [];
  }
}

/** The project root: explicit argument, else `PIPELINE_ROOT`, else the engine home. */
export function projectRoot(explicit?: string): string {
  const given = explicit ?? Deno.env.get("PIPELINE_ROOT");
  return given ? resolve(given) : engineHome;
}

/** Every path the engine writes, derived from one project root. */
export interface Layout {
  /** The project root. */
  root: string;
  /** `<root>/stages`: stage kinds. */
  stages: string;
  /** `<root>/artifacts`: everything the engine writes (git-ignored). */
  artifacts: string;
  /** Content-addressed objects: `objects/<2 hex>/<64 hex>`. */
  objects: string;
  /** Traces: `cache/<key>.json`, what a stage run with that key produced. */
  cache: string;
  /** One manifest per stage run. */
  runs: string;
  /** Resumable scratch dirs by cache key. */
  state: string;
  /** Scratch of stage runs in progress, `tmp/<key>/` (owned by the key's lock holder). */
  tmp: string;
  /** Stable human paths: `out/<config-or-experiment>/<stage>/<files>`. */
  out: string;
  /** Experiment records and their lock files. */
  experiments: string;
  /** Stage logs: `logs/<config-or-experiment>/<stage>.log`, each run's key in its header. */
  logs: string;
  /** Module graphs kept between runs (see `rebuilder/module_graph.ts`). */
  graphs: string;
  /** Per-cache-key lock files `keylocks/<key>.lock` (see `store/key_locks.ts`). */
  keyLocks: string;
  /** Stage kinds' declarations from the kind sandbox (see `permissions/kind_sandbox.ts`). */
  declarations: string;
  /** Parsed configs kept between runs (see `config/kept_source.ts`). */
  sources: string;
}

/** The layout under `root`. */
export function layout(root: string): Layout {
  const artifacts = join(root, "artifacts");
  return {
    root,
    stages: join(root, "stages"),
    artifacts,
    objects: join(artifacts, "objects"),
    cache: join(artifacts, "cache"),
    runs: join(artifacts, "runs"),
    state: join(artifacts, "state"),
    tmp: join(artifacts, "tmp"),
    out: join(artifacts, "out"),
    experiments: join(artifacts, "experiments"),
    logs: join(artifacts, "logs"),
    graphs: join(artifacts, "graphs.json"),
    keyLocks: join(artifacts, "keylocks"),
    declarations: join(artifacts, "declarations.json"),
    sources: join(artifacts, "sources.json"),
  };
}

/** `artifacts/logs/<config-or-experiment>/<stage>.log`: where a stage's runs are logged. */
export function stageLogPath(layout: Layout, publishAs: string, stage: string): string {
  return join(layout.logs, publishAs, `${stage}.log`);
}
