/**
 * Runs one stage in its own Deno subprocess with only the permissions its kind declares:
 * read the project (and the engine's code), write its out, state and temp dirs, and net/ffi
 * only when declared. Streams its progress and log lines back, keeps its log file, and kills
 * it on cancel. A crashing stage only fails its own run.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { engineHome } from "../store/layout.ts";
import { parseChildEvent } from "../protocol.ts";
import type { Executor, JobHooks, JobOutcome, StageJob } from "./executor.ts";

const STAGE_MAIN = fileURLToPath(new URL("../stage_main.ts", import.meta.url));

/** Everything a local run of one stage gets. */
type RunRequest = StageJob & JobHooks;

/** The `deno run` permission flags for a stage. */
function permissionFlags(req: RunRequest): string[] {
  const read = [req.root, engineHome, ...(req.permissions.read ?? [])];
  for (const inputs of Object.values(req.spec.inputs)) read.push(...inputs.map((i) => i.dir));
  const write = [req.spec.outDir, req.spec.stateDir, req.tmpDir];
  const flags = [
    `--allow-read=${[...new Set(read)].join(",")}`,
    `--allow-write=${write.join(",")}`,
    // tfjs reads a few environment variables and the CPU count.
    "--allow-env",
    "--allow-sys",
  ];
  if (req.permissions.net) flags.push("--allow-net");
  if (req.permissions.ffi) flags.push("--allow-ffi");
  return flags;
}

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
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${engineHome}/deno.json`,
      ...permissionFlags(req),
      STAGE_MAIN,
    ],
    cwd: req.root,
    env: { TMPDIR: req.tmpDir, NO_COLOR: "1" },
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
