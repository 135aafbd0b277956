/**
 * A stage's kind as the engine holds it: the plain data its sandboxed declaration returned for
 * that stage's params, behind the methods the rebuilder calls (`outputs(params)`, …), with the
 * runtime facts resolved by the engine's own probes.
 *
 * @module
 */
import type {
  InputSpec,
  RuntimeRequest,
  StageKind,
  StagePermissions,
  StageResources,
} from "../stage_kind.ts";
import type { DeclaredStage, KindAbout } from "../permissions/kind_declaration.ts";
import { resolveRuntime, runtimePermissions } from "../permissions/runtime_facts.ts";
import { canonicalJson } from "../../common/canonical_json.ts";

/** The declaration of one stage's kind, for that stage's validated params only. */
export interface DeclaredKind {
  /** One line shown by `--help` and in error messages. */
  description: string;
  /** Named inputs. */
  inputs: Record<string, InputSpec>;
  /** What the end of a run shows of the stage (see `StageKind.headline`). */
  headline?: StageKind<unknown>["headline"];
  /** Declared outputs. */
  outputs(params: unknown): string[];
  /** Declared outputs whose bytes vary between runs (see `StageKind.volatileOutputs`). */
  volatileOutputs(params: unknown): string[];
  /** Params left out of the cache key. */
  keyNeutralParams: string[];
  /** How V8 compiles the stage's WebAssembly (see `StageKind.wasmCompilation`). */
  wasmCompilation?: DeclaredStage["wasmCompilation"];
  /** The kind's permissions and what its resolved runtime facts imply (BLAS FFI). */
  permissions(params: unknown, runtime?: Record<string, string>): StagePermissions;
  /**
   * The runtime facts the kind asked for, resolved by the engine's probes for a stage with
   * `resources` (its `cpus` are its BLAS threads).
   */
  runtime(params: unknown, resources?: StageResources): Promise<Record<string, string>>;
  /** What the kind asked for. */
  runtimeRequest: RuntimeRequest;
}

/** The kind of a stage with `declared` as its sandboxed declaration. */
export function declaredKind(about: KindAbout, declared: DeclaredStage): DeclaredKind {
  const validated = canonicalJson(declared.params);
  /** The declaration holds for the params it was made for, not for others. */
  const check = (params: unknown) => {
    if (canonicalJson(params) !== validated) {
      throw new Error(
        `the kind was declared for params ${validated}, not for ${canonicalJson(params)}`,
      );
    }
  };
  return {
    description: about.description,
    inputs: about.inputs,
    ...(about.headline === undefined ? {} : { headline: about.headline }),
    outputs(params) {
      check(params);
      return [...declared.outputs];
    },
    volatileOutputs(params) {
      check(params);
      return [...declared.volatileOutputs];
    },
    keyNeutralParams: declared.keyNeutralParams,
    wasmCompilation: declared.wasmCompilation,
    permissions(params, runtime) {
      check(params);
      return mergePermissions(declared.permissions, runtimePermissions(runtime ?? {}));
    },
    runtime(params, resources) {
      check(params);
      return Promise.resolve(resolveRuntime(declared.runtime, { cpus: resources?.cpus ?? 1 }));
    },
    runtimeRequest: declared.runtime,
  };
}

/** Both grants: lists joined (`true` wins), environments merged (the engine's facts last). */
function mergePermissions(a: StagePermissions, b: StagePermissions): StagePermissions {
  const list = (x?: boolean | string[], y?: boolean | string[]) =>
    x === true || y === true
      ? true
      : x || y
      ? [...new Set([...(x || []), ...(y || [])])]
      : undefined;
  const merged: StagePermissions = {};
  const net = list(a.net, b.net);
  const ffi = list(a.ffi, b.ffi);
  const read = [...(a.read ?? []), ...(b.read ?? [])];
  if (net !== undefined) merged.net = net;
  if (ffi !== undefined) merged.ffi = ffi;
  if (read.length) merged.read = read;
  if (a.env || b.env) merged.env = { ...a.env, ...b.env };
  return merged;
}
