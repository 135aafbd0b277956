/**
 * Runs one stage in its own Deno subprocess with only what its grant names
 * (`pipeline/permissions/grant.ts`): read its code and inputs, write its out, state and temp
 * dirs, the environment the engine builds, and scoped net/ffi only when declared. Streams its progress and log lines back, keeps its log file, and kills
 * it on cancel. A crashing stage only fails its own run.
 *
 * @module
 */
import { engineHome } from "../store/layout.ts";
import { parseChildEvent, STAGE_MAIN } from "../protocol.ts";
import { denoFlags } from "../permissions/grant.ts";
import type { Executor, JobHooks, JobOutcome, StageJob } from "./executor.ts";

/** Everything a local run of one stage gets. */
type RunRequest = StageJob & JobHooks;

/** The local executor: each stage in its own Deno subprocess on this machine. */
export class LocalExecutor implements Executor {
  run(job: StageJob, hooks: JobHooks): Promise<JobOutcome> {
    return runStage({ ...job, ...hooks });
  }
}

/** Runs the stage subprocess to completion (or until `signal` aborts). */
async function runStage(req: RunRequest): Promise<JobOutcome> {
  const log = await Deno.open(req.logPath, { create: true, append: true });
  const encoder = new TextEncoder();
  const writeLog = (line: string) => log.writeSync(encoder.encode(line + "\n"));
  const flags = denoFlags(req.grant);
  writeLog(`granted: ${flags.join(" ")} (environment: ${Object.keys(req.grant.env).join(", ")})`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--config=${engineHome}/deno.json`, ...flags, STAGE_MAIN],
    cwd: req.root,
    // Nothing of the engine's environment: only what the grant names.
    clearEnv: true,
    env: req.grant.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGTERM");
      Deno.unrefTimer(setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 2000));
    } catch { /* already gone */ }
  };
  req.signal.addEventListener("abort", kill, { once: true });

  const stdin = child.stdin.getWriter();
  await stdin.write(encoder.encode(JSON.stringify(req.spec) + "\n"));
  // stdin stays open: closing it (or our death) tells the child to exit.

  let error: string | undefined;
  let done = false;
  const stderrTail: string[] = [];
  const stdout = forEachLine(child.stdout, (line) => {
    const e = parseChildEvent(line);
    if (!e) {
      writeLog(line);
      req.onLog(line);
    } else if (e.event === "progress") req.onProgress(e.progress);
    else if (e.event === "log") {
      writeLog(e.message);
      req.onLog(e.message);
    } else if (e.event === "done") done = true;
    else if (e.event === "error") {
      error = e.message;
      writeLog(`error: ${e.message}`);
    }
  });
  const stderr = forEachLine(child.stderr, (line) => {
    writeLog(line);
    req.onLog(line);
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  const status = await child.status;
  await Promise.all([stdout, stderr]);
  req.signal.removeEventListener("abort", kill);
  await stdin.close().catch(() => {});
  log.close();
  if (status.success && done) return { ok: true };
  if (req.signal.aborted) return { ok: false, error: "cancelled" };
  const why = error ?? (stderrTail.join("\n") ||
    `exited with ${status.signal ? `signal ${status.signal}` : `code ${status.code}`}`);
  return { ok: false, error: why };
}

async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  fn: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    lines.forEach((l) => fn(l.replace(/\r$/, "")));
  }
  if (rest) fn(rest);
}
