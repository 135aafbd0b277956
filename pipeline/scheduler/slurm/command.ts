/**
 * Runs one Slurm client command (`sbatch`, `squeue`, `sacct`, `scancel`, `scontrol`, `sinfo`)
 * and returns its text, so the rest of the Slurm client never touches `Deno.Command` itself.
 *
 * @module
 */

/** Where and how Slurm's client commands run. */
export interface SlurmEnv {
  /** Extra environment for the commands (e.g. `SLURM_CONF`); the process's own is inherited. */
  env?: Record<string, string>;
  /** A command that has not answered after this long is killed and counts as failed (default 30 s). */
  commandTimeoutMs?: number;
}

/** The result of one Slurm command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Slurm command that could not be run at all (not installed). */
export class SlurmMissingError extends Error {
  override name = "SlurmMissingError";
}

/** Runs `cmd args…` (with `stdin` piped in when given) and collects its output. */
export async function slurmCommand(
  cmd: string,
  args: string[],
  options: SlurmEnv & { stdin?: string } = {},
): Promise<CommandResult> {
  const timeout = AbortSignal.timeout(options.commandTimeoutMs ?? 30_000);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal: timeout,
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new SlurmMissingError(
        `${cmd}: not found; the Slurm executor needs Slurm's client commands on PATH (Debian: apt-get install slurm-client)`,
      );
    }
    throw e;
  }
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: timeout.aborted ? -1 : out.code,
    stdout: decoder.decode(out.stdout),
    stderr: timeout.aborted
      ? `${cmd} did not answer within ${options.commandTimeoutMs ?? 30_000} ms`
      : decoder.decode(out.stderr).trim(),
  };
}

/** True when a Slurm controller answers (`sinfo` succeeds). */
export async function controllerAnswers(options: SlurmEnv = {}): Promise<boolean> {
  try {
    const r = await slurmCommand("sinfo", ["-h", "-o", "%P"], {
      commandTimeoutMs: 10_000,
      ...options,
    });
    return r.code === 0;
  } catch (e) {
    if (e instanceof SlurmMissingError) return false;
    throw e;
  }
}
