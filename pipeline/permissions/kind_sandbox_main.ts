/**
 * The kind sandbox: a `deno run` subprocess started without permissions except reading the
 * kind's module graph (see `kind_sandbox.ts`). Reads a {@link SandboxRequest} on stdin, imports
 * the kind's `kind.ts`, validates each stage's params with its schema and evaluates its
 * declaration; prints the {@link KindDeclaration}s as one JSON line on stdout.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { type StageKind, WASM_COMPILATIONS } from "../stage_kind.ts";
import { checkParams } from "../config/params.ts";
import { fromWire, toWire } from "./wire.ts";
import {
  ANSWER_PREFIX,
  type DeclaredStage,
  type KindAbout,
  type KindDeclaration,
  type SandboxRequest,
} from "./kind_declaration.ts";

// Taken before the kind's code runs, so that it cannot replace them (`wire.ts` takes JSON's).
const writeAnswer = Deno.stdout.writeSync.bind(Deno.stdout);
const encoder = new TextEncoder();

const request = fromWire(await new Response(Deno.stdin.readable).text()) as SandboxRequest;
const answer = await declareAll(request);
const bytes = encoder.encode(`\n${ANSWER_PREFIX}${toWire(answer)}\n`);
for (let done = 0; done < bytes.length;) done += writeAnswer(bytes.subarray(done));

/** Loads the kind once, then declares it for every stage's `with:`. */
async function declareAll(r: SandboxRequest): Promise<KindDeclaration[]> {
  let kind: StageKind<unknown>;
  try {
    kind = (await import(pathToFileURL(r.file).href)).kind;
  } catch (e) {
    return r.withs.map(() => unloadable(`cannot load ${r.file}: ${message(e)}`));
  }
  if (!isKind(kind)) {
    return r.withs.map(() =>
      unloadable(
        `${r.file} does not export a valid \`kind\`; expected {description, params, inputs, outputs}`,
      )
    );
  }
  if (acceptsUnknownKeys(kind)) {
    return r.withs.map(() =>
      unloadable(
        `the params schema in ${r.file} accepts unknown keys, so typos would pass silently; ` +
          `expected z.strictObject`,
      )
    );
  }
  return r.withs.map((raw) => declare(kind, r, raw));
}

function declare(kind: StageKind<unknown>, r: SandboxRequest, raw: unknown): KindDeclaration {
  const about = fromWire(toWire({
    description: String(kind.description),
    inputs: kind.inputs,
    ...(kind.headline === undefined ? {} : { headline: kind.headline }),
  })) as KindAbout;
  let step = "params";
  try {
    const checked = checkParams(kind.params, raw ?? {}, r.uses);
    if (!checked.ok) return { state: "invalid-params", ...about, problems: checked.problems };
    const params = checked.params;
    step = "outputs(params)";
    const outputs = kind.outputs(params);
    step = "volatileOutputs(params)";
    const volatileOutputs = kind.volatileOutputs?.(params) ?? [];
    step = "permissions(params)";
    const permissions = kind.permissions?.(params) ?? {};
    step = "runtime(params)";
    const runtime = kind.runtime?.(params) ?? {};
    step = "resources(params)";
    const resources = kind.resources?.(params) ?? {};
    const keyNeutralParams = kind.keyNeutralParams ?? [];
    step = "wasmCompilation";
    const wasmCompilation = kind.wasmCompilation ?? "tiered";
    if (!WASM_COMPILATIONS.includes(wasmCompilation)) {
      throw new Error(
        `found ${JSON.stringify(wasmCompilation)}; expected ${
          WASM_COMPILATIONS.map((c) => JSON.stringify(c)).join(" or ")
        }`,
      );
    }
    // A round trip through JSON: what crosses to the engine is data, whatever the kind returned.
    const stage = fromWire(
      toWire({
        params,
        outputs,
        volatileOutputs,
        keyNeutralParams,
        wasmCompilation,
        permissions,
        runtime,
        resources,
      }),
    ) as DeclaredStage;
    return { state: "declared", ...about, stage };
  } catch (e) {
    return unloadable(`${step} of ${r.file} failed: ${message(e)}`);
  }
}

function unloadable(error: string): KindDeclaration {
  return { state: "unloadable", error };
}

function message(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e instanceof Deno.errors.NotCapable) {
    const denied = e.message.replace(/, run again with the --allow-\w+ flag$/, "");
    return `NotCapable: ${denied} (a kind's declaration runs without permissions: do such work ` +
      `in run.ts and declare what it needs in permissions())`;
  }
  return `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`;
}

function isKind(k: unknown): k is StageKind<unknown> {
  const o = k as Partial<StageKind<unknown>> | undefined;
  return typeof o?.params?.safeParse === "function" && typeof o.inputs === "object" &&
    o.inputs !== null && !Array.isArray(o.inputs) && typeof o.outputs === "function";
}

/** True when the kind's params schema lets an unknown top-level key through. */
function acceptsUnknownKeys(kind: StageKind<unknown>): boolean {
  const probe = kind.params.safeParse({ "unknown key probe": true });
  return probe.success || !probe.error.issues.some((i) => i.code === "unrecognized_keys");
}
