/**
 * What one stage subprocess is granted: the resolved, least-privilege permission set the engine
 * computes from the stage's module graph, its input and output dirs, its kind's declaration and
 * the config's opt-in (`allow:`). Executors turn it into flags (`denoFlags`); nothing else about
 * the stage's environment is inherited from the engine. No stage gets `--allow-sys`: tfjs (cpu,
 * wasm, blas) and the stages' own code were measured to need none.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { engineHome } from "../store/layout.ts";
import type { StagePermissions, WasmCompilation } from "../stage_kind.ts";
import { STAGE_MAIN } from "../protocol.ts";
import type { ModuleGraphs } from "../rebuilder/module_graph.ts";
import { describeViolation, policyViolations, type StageAllow } from "./policy.ts";

/** A stage's grant, as data (also recorded for `--json` and the README's table). */
export interface StageGrant {
  /** Files and directories the stage may read (its code, npm packages, inputs, own dirs). */
  read: string[];
  /** Directories the stage may write: its out, state and temp dirs. */
  write: string[];
  /** The whole environment of the subprocess; `--allow-env` is scoped to its names. */
  env: Record<string, string>;
  /** `host` or `host:port` entries for `--allow-net` (`*` = any, opted in); empty = none. */
  net: string[];
  /** Absolute library paths for `--allow-ffi` (`*` = any, opted in); empty = no FFI. */
  ffi: string[];
  /** V8 flags of the subprocess (`--liftoff-only` for a `baseline-only` kind); empty = none. */
  v8: string[];
}

/** The environment every stage gets (its values computed by the engine, never inherited). */
function baseEnv(tmpDir: string): Record<string, string> {
  return { TMPDIR: tmpDir, NO_COLOR: "1" };
}

/** Options of {@link stageGrant}. */
export interface GrantOptions {
  /** The project root: module labels without `engine:` are relative to it. */
  root: string;
  /** Module labels of the stage's code (the fingerprint's `code`), kind.ts and run.ts graphs. */
  code: string[];
  /** Module labels of the engine's stage entry point graph. */
  entry: string[];
  /** npm package name → version(s), from the same graphs. */
  npm: Record<string, string>;
  /** The materialised input dirs. */
  inputs: string[];
  /** The out, state and temp dirs. */
  outDir: string;
  stateDir: string;
  tmpDir: string;
  /** What the kind declares (already checked against the policy and the config's opt-in). */
  declared: StagePermissions;
  /** How V8 compiles the stage's WebAssembly (default `tiered`). */
  wasmCompilation?: WasmCompilation;
}

/** Computes the grant of one stage run. */
export function stageGrant(o: GrantOptions): StageGrant {
  const read = [
    ...codeReads({ root: o.root, modules: [...o.code, ...o.entry], npm: o.npm }),
    ...o.inputs,
    ...(o.declared.read ?? []),
    // Its own dirs too: renaming a finished temp file into place needs both.
    o.outDir,
    o.stateDir,
    o.tmpDir,
  ];
  return {
    read: [...new Set(read)],
    write: [o.outDir, o.stateDir, o.tmpDir],
    env: { ...baseEnv(o.tmpDir), ...(o.declared.env ?? {}) },
    net: scopedList(o.declared.net),
    ffi: scopedList(o.declared.ffi),
    v8: o.wasmCompilation === "baseline-only" ? ["--liftoff-only"] : [],
  };
}

/**
 * What running code needs to read: its modules (labels as `ModuleGraphs` gives them), the
 * engine's `deno.json` and `deno.lock`, and the `node_modules` dirs of its npm packages.
 */
export function codeReads(o: { root: string; modules: string[]; npm: Record<string, string> }) {
  return [
    ...o.modules.map((label) => modulePath(o.root, label)),
    join(engineHome, "deno.json"),
    join(engineHome, "deno.lock"),
    ...npmDirs(o.npm),
  ];
}

/** A declared `true` (opted in) as `["*"]`, a list as it is, nothing as `[]`. */
function scopedList(declared: boolean | string[] | undefined): string[] {
  return declared === true ? ["*"] : Array.isArray(declared) ? [...declared] : [];
}

/** The absolute path of a module label (see `ModuleGraphs`). */
function modulePath(root: string, label: string): string {
  if (label.startsWith("engine:")) return join(engineHome, label.slice("engine:".length));
  return isAbsolute(label) ? label : join(root, label);
}

/** The `node_modules` dirs of the npm packages a stage's graph resolves to. */
function npmDirs(npm: Record<string, string>): string[] {
  const nodeModules = join(engineHome, "node_modules");
  const dirs: string[] = [];
  for (const [name, versions] of Object.entries(npm)) {
    dirs.push(join(nodeModules, name));
    for (const version of versions.split(",")) {
      dirs.push(join(nodeModules, ".deno", `${name.replace("/", "+")}@${version}`));
    }
  }
  return dirs;
}

/** The `deno run` permission flags of a grant (the environment itself is passed separately). */
export function denoFlags(grant: StageGrant): string[] {
  const flags = [
    `--allow-read=${grant.read.join(",")}`,
    `--allow-write=${grant.write.join(",")}`,
    `--allow-env=${Object.keys(grant.env).join(",")}`,
  ];
  const scoped = (name: string, list: string[]) =>
    list.includes("*") ? `--allow-${name}` : `--allow-${name}=${list.join(",")}`;
  if (grant.net.length) flags.push(scoped("net", grant.net));
  if (grant.ffi.length) flags.push(scoped("ffi", grant.ffi));
  if (grant.v8.length) flags.push(`--v8-flags=${grant.v8.join(",")}`);
  return flags;
}

/** Options of {@link resolveStageGrant}: the stage's dirs and declaration, and its graphs. */
export interface ResolveOptions extends Omit<GrantOptions, "code" | "entry" | "npm"> {
  /** The stage's fingerprint: its code labels and npm versions. */
  fingerprint: { code: Record<string, string>; npm: Record<string, string> };
  /** The config's opt-in (`allow.env` names are passed on from the engine's environment). */
  allow?: StageAllow;
  /** Module graphs (for the entry point's own modules). */
  graphs: ModuleGraphs;
}

/**
 * The grant of one stage run, after checking the kind's declaration (now with its runtime)
 * against the policy; throws an error naming the stage's `allow:` key when it asks for more.
 */
export async function resolveStageGrant(stage: string, o: ResolveOptions): Promise<StageGrant> {
  const violation = policyViolations(o.declared, { root: o.root, allow: o.allow })[0];
  if (violation) throw new Error(describeViolation(stage, violation));
  const entry = await o.graphs.of([STAGE_MAIN]);
  const passed = (o.allow?.env ?? []).flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value] as const];
  });
  const env = { ...o.declared.env, ...Object.fromEntries(passed) };
  return stageGrant({
    ...o,
    declared: { ...o.declared, env },
    code: Object.keys(o.fingerprint.code),
    entry: Object.keys(entry.modules),
    npm: { ...entry.npm, ...o.fingerprint.npm },
  });
}
