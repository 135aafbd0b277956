/**
 * Timing whole commands for the benchmarks: wall seconds from process start to exit.
 *
 * @module
 */

/** Wall seconds of one command and its output; throws with the output if it fails. */
export async function timed(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ seconds: number; text: string }> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const seconds = (performance.now() - t0) / 1000;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return { seconds, text };
}
