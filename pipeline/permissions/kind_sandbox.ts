/**
 * Loading stage kinds without trusting them: each kind's `kind.ts` is imported in its own
 * `deno run` subprocess (`kind_sandbox_main.ts`) that may read only its module graph (the
 * kind's, the sandbox's, their npm packages), with no write, environment, network, FFI, run or
 * sys permission and an empty environment. What comes back is data ({@link KindDeclaration}).
 *
 * Answers are kept between runs (in `artifacts/declarations.json`) under a digest of everything
 * they depend on: the kind's and the sandbox's module digests, npm versions, Deno version and the
 * stage's raw `with:`. A no-op run starts no sandbox. One process keeps one {@link KindSandbox}
 * per answers file ({@link kindSandbox}), so configs loaded at the same time (a sweep's) ask each
 * question once.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { canonicalDigest } from "../../common/canonical_json.ts";
import { engineHome, nodeModulesFlags } from "../store/layout.ts";
import type { ModuleGraph, ModuleGraphs } from "../rebuilder/module_graph.ts";
import { codeReads } from "./grant.ts";
import { ANSWER_PREFIX, type KindDeclaration, type SandboxRequest } from "./kind_declaration.ts";
import { fromWire, toWire } from "./wire.ts";
import { WASM_COMPILATIONS } from "../stage_kind.ts";
import { StateWriter } from "../store/state_writer.ts";

/** The sandbox's entry point. */
export const SANDBOX_MAIN = fileURLToPath(new URL("./kind_sandbox_main.ts", import.meta.url));

/** Bump when what the sandbox answers changes shape, so kept answers are not reused. */
const SANDBOX_PROTOCOL = "2";

/** A kind whose declaration takes longer than this is stopped (an endless loop at import). */
const SANDBOX_TIMEOUT_MS = 60_000;

/** Answers kept between runs at most (several configs and their variants share the file). */
const KEPT_ANSWERS = 2000;

/** Options of {@link KindSandbox}. */
export interface KindSandboxOptions {
  /** The project root (module labels are relative to it). */
  root: string;
  /** Module graphs (their digests key the kept answers; their files are what may be read). */
  graphs: ModuleGraphs;
  /** Where answers are kept between runs; none: not kept. */
  savePath?: string;
}

const shared = new Map<string, KindSandbox>();

/**
 * This process's sandbox for answers kept in `o.savePath`: the same instance for every caller
 * with that file (without one, a new sandbox each time).
 */
export function kindSandbox(o: KindSandboxOptions): KindSandbox {
  if (o.savePath === undefined) return new KindSandbox(o);
  let sandbox = shared.get(o.savePath);
  if (!sandbox) shared.set(o.savePath, sandbox = new KindSandbox(o));
  return sandbox;
}

/**
 * How long a sandbox waits before it starts, so that the same kind's questions asked meanwhile
 * (the other configs of a sweep, loaded at the same time) go to it too.
 */
const GATHER_MS = 5;

/** A sandbox about to start for one kind, and the raw `with:`s it will be asked. */
interface Batch {
  withs: unknown[];
  answers: Promise<KindDeclaration[]>;
}

/** Declares kinds in sandbox subprocesses, reusing kept answers. */
export class KindSandbox {
  #o: KindSandboxOptions;
  #saved: Promise<Record<string, KindDeclaration>>;
  /** Answers being asked for now, by key: a second asker waits for the same sandbox. */
  #asked = new Map<string, Promise<KindDeclaration>>();
  /** The sandbox about to start, by kind file. */
  #gathering = new Map<string, Batch>();
  #used = new Set<string>();
  #writer: StateWriter | undefined;

  constructor(o: KindSandboxOptions) {
    this.#o = o;
    this.#saved = o.savePath ? readSaved(o.savePath) : Promise.resolve({});
    this.#writer = o.savePath ? new StateWriter(o.savePath, () => this.#kept()) : undefined;
  }

  /**
   * The declaration of the kind in `file` (named `uses`) for each raw `with:` in `withs`, in
   * order. The ones neither kept from an earlier run nor being asked already go to one sandbox
   * of the kind, with the other questions asked within {@link GATHER_MS}.
   */
  async declare(o: { file: string; uses: string; withs: unknown[] }): Promise<KindDeclaration[]> {
    const graph = await this.#o.graphs.of([o.file, SANDBOX_MAIN]);
    const keys = o.withs.map((raw) =>
      canonicalDigest({
        sandbox: SANDBOX_PROTOCOL,
        deno: Deno.version.deno,
        file: o.file,
        uses: o.uses,
        code: graph.modules,
        npm: graph.npm,
        // As it crosses the pipe: `.nan` and `null` are different answers.
        with: toWire(raw ?? null),
      })
    );
    const saved = await this.#saved;
    keys.forEach((k) => this.#used.add(k));
    keys.forEach((k, i) => {
      if (k in saved || this.#asked.has(k)) return;
      const batch = this.#batch(o, graph);
      const at = batch.withs.push(o.withs[i]) - 1;
      this.#asked.set(
        k,
        batch.answers.then((answers) => {
          saved[k] = answers[at];
          this.#writer?.changed();
          return answers[at];
        }),
      );
    });
    return await Promise.all(keys.map((k) => k in saved ? saved[k] : this.#asked.get(k)!));
  }

  /** The sandbox of `o.file` that has not started yet, made when there is none. */
  #batch(o: { file: string; uses: string }, graph: ModuleGraph): Batch {
    const open = this.#gathering.get(o.file);
    if (open) return open;
    const withs: unknown[] = [];
    const answers = new Promise((start) => setTimeout(start, GATHER_MS)).then(() => {
      this.#gathering.delete(o.file);
      return this.#run(
        { file: o.file, uses: o.uses, withs },
        Object.keys(graph.modules),
        graph.npm,
      );
    });
    const batch = { withs, answers };
    this.#gathering.set(o.file, batch);
    return batch;
  }

  /** Keeps the answers for the next run. */
  async save(): Promise<void> {
    await this.#writer?.save();
  }

  /** The answers file's text: the newest {@link KEPT_ANSWERS} answers, used ones last. */
  async #kept(): Promise<string> {
    const saved = Object.entries(await this.#saved);
    const ordered = [
      ...saved.filter(([k]) => !this.#used.has(k)),
      ...saved.filter(([k]) => this.#used.has(k)),
    ];
    return toWire(Object.fromEntries(ordered.slice(-KEPT_ANSWERS)));
  }

  async #run(
    request: SandboxRequest,
    modules: string[],
    npm: Record<string, string>,
  ): Promise<KindDeclaration[]> {
    const read = [...new Set(codeReads({ root: this.#o.root, modules, npm }))];
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--config=${engineHome}/deno.json`,
        ...nodeModulesFlags(),
        `--allow-read=${read.join(",")}`,
        SANDBOX_MAIN,
      ],
      cwd: engineHome,
      clearEnv: true,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), SANDBOX_TIMEOUT_MS);
    try {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(toWire(request)));
      await writer.close();
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      const line = stdout.split("\n").findLast((l) => l.startsWith(ANSWER_PREFIX));
      const answers = line ? parseAnswers(line.slice(ANSWER_PREFIX.length), request) : undefined;
      if (answers) return answers;
      const why = out.signal === "SIGKILL"
        ? `did not finish within ${SANDBOX_TIMEOUT_MS / 1000} s`
        : `exited with code ${out.code} without declaring it`;
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
      const error = `loading ${request.file} in the kind sandbox ${why}${
        stderr ? `: ${stderr}` : ""
      }`;
      return request.withs.map(() => ({ state: "unloadable", error }));
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The sandbox's answer line, when it is one well-formed declaration per request entry (the
 * kind's code shares the sandbox's stdout, so the engine trusts the shape of nothing).
 */
function parseAnswers(text: string, request: SandboxRequest): KindDeclaration[] | undefined {
  try {
    const answers = fromWire(text);
    const fits = Array.isArray(answers) && answers.length === request.withs.length &&
      answers.every(wellFormed);
    return fits ? answers : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answers kept by an earlier run; an unreadable file or a malformed entry is dropped (that
 * kind is declared again), never trusted.
 */
async function readSaved(path: string): Promise<Record<string, KindDeclaration>> {
  try {
    const saved = fromWire(await Deno.readTextFile(path));
    if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return {};
    return Object.fromEntries(
      Object.entries(saved).filter(([, a]) => wellFormed(a as KindDeclaration)),
    ) as Record<string, KindDeclaration>;
  } catch {
    return {};
  }
}

function wellFormed(a: KindDeclaration): boolean {
  const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (a?.state === "unloadable") return typeof a.error === "string";
  const headline = a?.headline;
  const about = typeof a?.description === "string" && isMap(a.inputs) &&
    Object.values(a.inputs).every((i) => isMap(i) && typeof i.description === "string") &&
    (headline === undefined || isMap(headline) &&
        [headline.metrics, headline.files].every((l) => l === undefined || strings(l)));
  if (a?.state === "invalid-params") return about && Array.isArray(a.problems);
  if (a?.state !== "declared" || !about) return false;
  const s = a.stage;
  return isMap(s) && strings(s.outputs) && strings(s.volatileOutputs) &&
    strings(s.keyNeutralParams) && WASM_COMPILATIONS.includes(s.wasmCompilation) &&
    isMap(s.permissions) && isMap(s.runtime);
}
