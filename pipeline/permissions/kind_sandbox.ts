/**
 * Loading stage kinds without trusting them: each kind's `kind.ts` is imported in its own
 * `deno run` subprocess (`kind_sandbox_main.ts`) that may read only its module graph (the
 * kind's, the sandbox's, their npm packages), with no write, environment, network, FFI, run or
 * sys permission and an empty environment. What comes back is data ({@link KindDeclaration}).
 *
 * Answers are kept between runs (in `artifacts/declarations.json`) under a digest of everything
 * they depend on: the kind's and the sandbox's module digests, npm versions, Deno version and the
 * stage's raw `with:`. A no-op run starts no sandbox.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalDigest } from "../../common/canonical_json.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { engineHome, nodeModulesFlags } from "../store/layout.ts";
import type { ModuleGraphs } from "../rebuilder/module_graph.ts";
import { codeReads } from "./grant.ts";
import { ANSWER_PREFIX, type KindDeclaration, type SandboxRequest } from "./kind_declaration.ts";
import { fromWire, toWire } from "./wire.ts";
import { WASM_COMPILATIONS } from "../stage_kind.ts";

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

/** Declares kinds in sandbox subprocesses, reusing kept answers. */
export class KindSandbox {
  #o: KindSandboxOptions;
  #saved: Promise<Record<string, KindDeclaration>>;
  #used = new Set<string>();
  #dirty = false;

  constructor(o: KindSandboxOptions) {
    this.#o = o;
    this.#saved = o.savePath ? readSaved(o.savePath) : Promise.resolve({});
  }

  /**
   * The declaration of the kind in `file` (named `uses`) for each raw `with:` in `withs`, in
   * order. Starts one sandbox for the ones not kept from an earlier run.
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
    const missing = o.withs.filter((_, i) => !(keys[i] in saved));
    if (missing.length) {
      const answers = await this.#run(
        { file: o.file, uses: o.uses, withs: missing },
        Object.keys(graph.modules),
        graph.npm,
      );
      keys.filter((k) => !(k in saved)).forEach((k, i) => saved[k] = answers[i]);
      this.#dirty = true;
    }
    return keys.map((k) => saved[k]);
  }

  /** Keeps the answers for the next run: the newest {@link KEPT_ANSWERS}, used ones last. */
  async save(): Promise<void> {
    if (!this.#o.savePath || !this.#dirty) return;
    const saved = Object.entries(await this.#saved);
    const ordered = [
      ...saved.filter(([k]) => !this.#used.has(k)),
      ...saved.filter(([k]) => this.#used.has(k)),
    ];
    const kept = Object.fromEntries(ordered.slice(-KEPT_ANSWERS));
    await Deno.mkdir(dirname(this.#o.savePath), { recursive: true });
    await writeFileAtomic(this.#o.savePath, toWire(kept));
    this.#dirty = false;
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
