/**
 * A stage kind's declaration as plain data: what the kind sandbox (`kind_sandbox_main.ts`)
 * makes of a kind's `kind.ts` for one stage's `with:` params, and all the engine ever learns
 * from that code.
 *
 * @module
 */
import type {
  RuntimeRequest,
  StageKind,
  StagePermissions,
  StageResources,
  WasmCompilation,
} from "../stage_kind.ts";
import type { ParamProblem } from "../config/params.ts";

/** What a kind declares for one stage, with its params validated. */
export interface DeclaredStage {
  /** The params the schema made of `with:` (defaults applied). */
  params: unknown;
  /** `outputs(params)`. */
  outputs: string[];
  /** `volatileOutputs(params)` (none when not declared). */
  volatileOutputs: string[];
  /** `keyNeutralParams` (none when not declared). */
  keyNeutralParams: string[];
  /** `wasmCompilation` (`tiered` when not declared). */
  wasmCompilation: WasmCompilation;
  /** `permissions(params)` (none when not declared). */
  permissions: StagePermissions;
  /** `runtime(params)`: the runtime facts the engine resolves (none when not declared). */
  runtime: RuntimeRequest;
  /** `resources(params)`: the stage's default resources (none when not declared). */
  resources: StageResources;
}

/** What a kind declares whatever the params: `description`, `inputs`, `headline`. */
export type KindAbout = Pick<StageKind<unknown>, "description" | "inputs" | "headline">;

/** The outcome of loading one kind for one stage in the sandbox. */
export type KindDeclaration =
  /** The module failed to load or to declare (`error` says why, e.g. a denied permission). */
  | { state: "unloadable"; error: string }
  /** Loaded; the stage's params are invalid. */
  | KindAbout & { state: "invalid-params"; problems: ParamProblem[] }
  /** Loaded and declared. */
  | KindAbout & { state: "declared"; stage: DeclaredStage };

/** What the engine sends the sandbox on stdin: one kind module and the stages that use it. */
export interface SandboxRequest {
  /** Absolute path of the kind's `kind.ts`. */
  file: string;
  /** The kind's name (for messages). */
  uses: string;
  /** The raw `with:` value of each stage using it. */
  withs: unknown[];
}

/** The prefix of the one stdout line that carries the sandbox's answer (a JSON array). */
export const ANSWER_PREFIX = "kind-sandbox-answer ";
