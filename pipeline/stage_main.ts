/**
 * Entry point of a stage subprocess: reads the `ChildSpec` line from stdin, imports the kind's
 * `run.ts`, builds the `StageContext` and runs it, reporting progress, logs and the outcome
 * as JSON lines on stdout. Exits when stdin closes (the engine died or cancelled the run).
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import type { ChildEvent, ChildSpec } from "./protocol.ts";
import type { Progress, StageContext, StageRun } from "./stage_kind.ts";

const encoder = new TextEncoder();

function emit(e: ChildEvent): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(e) + "\n"));
}

/** Reads the spec line, then watches stdin for EOF in the background. */
async function readSpec(): Promise<ChildSpec> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) Deno.exit(2);
    buffered += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* the engine never writes more */ }
    Deno.exit(130);
  })();
  return JSON.parse(buffered.slice(0, buffered.indexOf("\n")));
}

/**
 * Sends progress at most every 100 ms, but always the final `done === total` step and the
 * first report of a new phase or of a new step of the series (so no phase goes unseen).
 */
function progressReporter(): (p: Progress) => void {
  let last = 0;
  let sent: Progress | undefined;
  return (p) => {
    const now = performance.now();
    const turning = !sent || sent.phase !== p.phase || sent.of?.done !== p.of?.done;
    if (now - last < 100 && p.done !== p.total && !turning) return;
    last = now;
    sent = p;
    emit({ event: "progress", progress: p });
  };
}

/** console.log & co. become log events, so stage output shows up in the engine's view. */
function redirectConsole(): void {
  const toLog = (...args: unknown[]) =>
    emit({
      event: "log",
      message: args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "),
    });
  console.log = toLog;
  console.info = toLog;
  console.debug = toLog;
}

async function main(): Promise<void> {
  // Ctrl-C goes to every process of the terminal's foreground group, this one included. The
  // engine decides how stages stop (SIGTERM, or closing stdin), so that a stage never dies of
  // the terminal's SIGINT before the engine knows the run is being interrupted.
  Deno.addSignalListener("SIGINT", () => {});
  const spec = await readSpec();
  redirectConsole();
  const { run } = await import(pathToFileURL(spec.runModule).href) as { run: StageRun<unknown> };
  if (typeof run !== "function") {
    throw new Error(`${spec.runModule} must export \`run(ctx)\` (see pipeline/stage_kind.ts)`);
  }
  const ctx: StageContext<unknown> = {
    stage: spec.stage,
    params: spec.params,
    runtime: spec.runtime,
    inputs: spec.inputs,
    input(name) {
      const dirs = spec.inputs[name];
      if (!dirs) {
        throw new Error(
          `stage ${spec.stage} has no input "${name}" (inputs: ${
            Object.keys(spec.inputs).join(", ") || "none"
          })`,
        );
      }
      if (dirs.length !== 1) {
        throw new Error(
          `input "${name}" of ${spec.stage} has ${dirs.length} stages; use ctx.inputs`,
        );
      }
      return dirs[0].dir;
    },
    outDir: spec.outDir,
    stateDir: spec.stateDir,
    progress: progressReporter(),
    log: (message) => emit({ event: "log", message }),
    provenance: spec.provenance,
  };
  await run(ctx);
}

try {
  await main();
  emit({ event: "done" });
  Deno.exit(0);
} catch (e) {
  const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
  emit({ event: "error", message: err });
  Deno.exit(1);
}
