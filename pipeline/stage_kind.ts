/**
 * The contract between the engine and the research code.
 *
 * A stage kind lives in `stages/<kind>/` as two modules:
 * - `kind.ts` exports `kind: StageKind<P>`: the light declaration of what the stage takes and
 *   gives (params schema, inputs, outputs, permissions, the runtime facts it depends on). The
 *   engine loads it in a sandbox subprocess without permissions (`permissions/kind_sandbox.ts`),
 *   never in its own process, and gets back plain data. It must not import heavy modules.
 * - `run.ts` exports `run(ctx: StageContext<P>): Promise<void>`: the work. The engine runs it
 *   in its own subprocess with only the permissions the kind declares. The digest of its whole
 *   local import graph is part of the stage's cache key.
 *
 * @module
 */
import type { z } from "zod";

/** One named input of a stage kind, wired in a config with `needs: {name: upstreamStage}`. */
export interface InputSpec {
  /** What the input must contain, for error messages and `--help`. */
  description: string;
  /** True when the input takes a list of upstream stages (`needs: {models: [a, b]}`). */
  many?: boolean;
}

/**
 * Deno permissions a stage needs beyond reading its code, its inputs and writing its own dirs.
 * Within the engine's policy (`pipeline/permissions/policy.ts`) they are granted as declared;
 * anything beyond it (unscoped network or FFI, a library that is not a BLAS, a path outside the
 * project that is not a system data dir) needs the config's opt-in `allow:` on the stage.
 */
export interface StagePermissions {
  /** Hosts (`host` or `host:port`) the stage may connect to; `true` = any (needs opt-in). */
  net?: boolean | string[];
  /** Absolute paths of the native libraries the stage may `dlopen`; `true` = any (opt-in). */
  ffi?: boolean | string[];
  /** Extra paths the stage may read, e.g. a local dataset mirror. */
  read?: string[];
  /** Environment variables the engine sets for the stage (and lets it read). */
  env?: Record<string, string>;
}

/**
 * What a stage asks of the machine by default: cores (the local scheduler counts them against
 * `--jobs`; a Slurm job gets `--cpus-per-task`), memory (`4G`, `512M`), a wall-clock limit
 * (`20m`, `2h`) and GPUs. A config's `resources:` overrides it key by key. Never part of the
 * cache key.
 */
export interface StageResources {
  cpus?: number;
  mem?: string;
  time?: string;
  gpus?: number;
}

/** The declaration of a stage kind, exported as `kind` from `stages/<kind>/kind.ts`. */
export interface StageKind<P> {
  /** One line shown by `--help` and in error messages. */
  description: string;
  /** Schema of the stage's `with:` params; use `z.strictObject` so unknown keys are errors. */
  params: z.ZodType<P>;
  /** Named inputs; a config must wire each one in `needs:`. */
  inputs: Record<string, InputSpec>;
  /**
   * Relative paths of the files the stage writes into `ctx.outDir`. The engine checks they
   * all exist after the run and stores each one by its sha256. `metrics.json`, when declared,
   * is what `metrics diff` reads.
   */
  outputs(params: P): string[];
  /**
   * Declared outputs whose bytes vary from run to run while the result does not (wall-clock
   * timings, e.g. `history.jsonl` and `metrics.json` of `train`). They are stored, published,
   * passed to dependants and recorded in manifests and lock files like any output, but their
   * digests are left out of dependants' cache keys, so a rerun whose other outputs come out
   * byte-identical still stops there (early cutoff). The other outputs must determine
   * everything in them that a dependant's result may depend on.
   */
  volatileOutputs?(params: P): string[];
  /**
   * Names of params that cannot change the stage's outputs (e.g. `download`'s `sources` and
   * timeouts: its outputs are fixed by the expected digests in its code). They are left out of
   * the cache key, so changing one neither reruns the stage nor makes `status` call it stale;
   * manifests, lock files and provenance still record them.
   */
  keyNeutralParams?: string[];
  /** Default resources of a stage of this kind (see {@link StageResources}). */
  resources?(params: P): StageResources;
  /**
   * How V8 compiles the stage's WebAssembly (see {@link WasmCompilation}); default `tiered`.
   */
  wasmCompilation?: WasmCompilation;
  /**
   * What the end of a run shows of this stage, above the summary line: `metrics`, dotted keys
   * into its `metrics.json` (e.g. `test_mse`), and `files`, declared outputs worth opening
   * (e.g. `report.html`), by their published path.
   */
  headline?: { metrics?: string[]; files?: string[] };
  /**
   * Permissions the subprocess gets. Read of its code and inputs and write of its own dirs are
   * always granted; so is what its `runtime` facts imply (FFI of the resolved BLAS library).
   */
  permissions?(params: P): StagePermissions;
  /**
   * The runtime facts the stage's numbers depend on besides its params (e.g. the resolved
   * tfjs backend and BLAS kernel), asked of the engine as data: the engine's own probes
   * resolve them (`pipeline/permissions/runtime_facts.ts`) into the cache key, the manifest and
   * `ctx.runtime`, so no kind code runs with the engine's privileges to find them.
   */
  runtime?(params: P): RuntimeRequest;
}

/**
 * How V8 compiles a stage's WebAssembly. `tiered` (V8's default): baseline code (Liftoff) first,
 * hot functions optimised again (TurboFan) on background threads. `baseline-only`: Liftoff code
 * only, for a stage whose WebAssembly runs for about a second: there the optimising compiler's
 * background work costs more CPU on other cores than it saves on the clock (the figure stage's
 * resvg: 0.7 s of CPU for no shorter a render), and under `--jobs` that CPU belongs to the
 * other stages. WebAssembly computes the same results in either tier.
 */
export type WasmCompilation = "tiered" | "baseline-only";

/** Every {@link WasmCompilation}. */
export const WASM_COMPILATIONS: readonly WasmCompilation[] = ["tiered", "baseline-only"];

/** Runtime facts a kind asks the engine to resolve for a stage. */
export interface RuntimeRequest {
  /**
   * The tfjs backend asked for (`auto`, `blas`, `wasm`, `cpu`): resolved to `backend` and, for
   * BLAS, `blas_library` (absolute path and `openblas_get_config()`: version and CPU kernel) and
   * `blas_threads`; a `blas` backend also grants FFI of exactly that library.
   */
  tfjs?: "auto" | "blas" | "wasm" | "cpu";
  /**
   * Runtime setting name → a variable of the engine's environment whose value is that setting
   * (unset: `""`). Each variable needs the config's opt-in `allow: {env: [NAME]}` on the stage.
   */
  env?: Record<string, string>;
}

/**
 * Progress of a long stage, on two levels: the current phase's units (`done` of `total`, e.g.
 * batches of this epoch, k-means iterations, bytes) and, optionally, the phase's place in a
 * series (`of`, e.g. epoch 3 of 20). A new `phase` name starts a new rate: the terminal's ETA
 * comes from the units done per second since the current phase began, so a slow
 * initialisation does not distort the training ETA. Shown as a bar with ETA on a terminal and
 * as one line per phase in CI logs.
 */
export interface Progress {
  /** Units done so far in the current phase (or the current step of the series). */
  done: number;
  /** Total units of the phase (of one step of the series), when known. */
  total?: number;
  /** Short text such as `loss 812.4`. */
  message?: string;
  /** The phase, e.g. `load`, `init k-means`, `train`; omitted: one phase for the whole stage. */
  phase?: string;
  /**
   * The outer level: steps of the phase finished (`done`, the current one not counted) of
   * `total`, e.g. `{ done: 2, total: 20, unit: "epoch" }` while epoch 3 runs.
   */
  of?: { done: number; total: number; unit?: string };
}

/** What `run.ts` receives. */
export interface StageContext<P> {
  /** The stage's name in the config (e.g. `train_llgae`). */
  stage: string;
  /** Validated params (defaults applied). */
  params: P;
  /** The runtime facts the engine resolved for `kind.runtime`, as keyed into the cache. */
  runtime: Record<string, string>;
  /**
   * Input directories by input name. Each holds the declared outputs of one upstream stage,
   * read-only. A `many` input has one entry per upstream stage in config order.
   */
  inputs: Record<string, { stage: string; dir: string }[]>;
  /** The directory of a single (non-`many`) input. Throws when the name is unknown. */
  input(name: string): string;
  /** Write every declared output here. The engine moves it into the store only on success. */
  outDir: string;
  /**
   * A scratch directory that survives an interrupted run with the same cache key, for resuming
   * (e.g. per-epoch checkpoints). The engine removes it after the stage succeeds.
   */
  stateDir: string;
  /** Report progress (rate-limited by the engine's view). */
  progress(p: Progress): void;
  /** One log line, kept in the stage's log and shown in CI output. */
  log(message: string): void;
  /**
   * Where this stage's inputs came from, for reports: the config file and, for this stage and
   * every stage upstream of it, what its cache key was made of. Deterministic (no timings).
   */
  provenance: Provenance;
}

/** The cache-key facts of one stage, as handed to downstream stages for reports. */
export interface StageProvenance {
  /** The stage kind (`uses:`). */
  uses: string;
  /** The stage's cache key. */
  key: string;
  /** Validated params. */
  params: unknown;
  /** sha256 over the stage's local import graph. */
  codeDigest: string;
  /** Resolved runtime settings (backend, library, threads, …). */
  runtime: Record<string, string>;
  /** Output file name → sha256 (absent for the running stage itself). */
  outputs?: Record<string, string>;
}

/** Provenance of a stage run: its config and every stage it depends on, itself included. */
export interface Provenance {
  /** Config path relative to the project root, and the sha256 of its resolved content. */
  config: { path: string; digest: string };
  /** Deno version and the resolved npm package versions the stages run with. */
  versions: Record<string, string>;
  /** By stage name: this stage and all its transitive upstream stages. */
  stages: Record<string, StageProvenance>;
}

/** The signature of `run` exported by `stages/<kind>/run.ts`. */
export type StageRun<P> = (ctx: StageContext<P>) => Promise<void>;
