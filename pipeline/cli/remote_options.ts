/**
 * The command-line side of the remote cache: the `--remote URL`, `--no-remote` and
 * `--no-push` options and the settings in force for a loaded config.
 *
 * @module
 */
import type { Command } from "commander";
import type { Pipeline } from "../config/config.ts";
import { type RemoteFlags, type RemoteSettings, resolveRemote } from "../config/remote.ts";
import { UsageError } from "../config/usage_error.ts";

/** Adds `--remote URL`, `--no-remote` and `--no-push` to a command. */
export function remoteOptions(cmd: Command): Command {
  return cmd
    .option(
      "--remote <url>",
      "remote cache to pull from and push to (over $PIPELINE_REMOTE and the config's remote:)",
    )
    .option("--no-remote", "use the local cache only, whatever the config or environment say")
    .option("--no-push", "pull from the remote cache but do not upload to it");
}

/** The remote in force for `pipeline`, from the flags, `PIPELINE_REMOTE` and its config. */
export function remoteFor(flags: RemoteFlags, pipeline: Pipeline): RemoteSettings | undefined {
  try {
    const settings = resolveRemote({ flags, env: Deno.env, config: pipeline.remote });
    return settings && { url: settings.url, push: settings.push };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The remote for `push`/`pull`: one must be in force; says how to name one otherwise. */
export function requireRemote(flags: RemoteFlags, pipeline: Pipeline): RemoteSettings {
  const remote = remoteFor(flags, pipeline);
  if (!remote) {
    throw new UsageError(
      `no remote cache for ${pipeline.path}: give --remote URL, set PIPELINE_REMOTE, or add ` +
        `remote: { url: http://…, push: true } to the config`,
    );
  }
  return remote;
}

/** `3 blobs, 1.2 MB (1234567 bytes)`. */
export function describeMoved(moved: { blobs: number; bytes: number }): string {
  return `${moved.blobs} blob(s), ${(moved.bytes / 1e6).toFixed(1)} MB (${moved.bytes} bytes)`;
}
