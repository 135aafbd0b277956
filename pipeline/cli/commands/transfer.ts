/**
 * What `push` and `pull` share: their arguments (`[config]`, `--set`, the remote options) and
 * loading the config with the remote it is to move results to or from.
 *
 * @module
 */
import type { Command } from "commander";
import type { Pipeline } from "../../config/config.ts";
import type { RemoteFlags, RemoteSettings } from "../../config/remote.ts";
import type { Layout } from "../../store/layout.ts";
import { collect, DEFAULT_CONFIG, layoutFrom, load } from "../options.ts";
import { remoteOptions, requireRemote } from "../remote_options.ts";

/** The options of `push` and `pull`. */
export interface TransferOptions extends RemoteFlags {
  set: string[];
}

/** Declares `push` or `pull` with its arguments; the caller adds the action. */
export function transferCommand(root: Command, o: { name: string; description: string }): Command {
  return remoteOptions(
    root.command(o.name)
      .description(o.description)
      .argument("[config]", "config file", DEFAULT_CONFIG)
      .option("--set <key=value>", "as for run (repeatable)", collect, []),
  );
}

/** The layout, the loaded config and the remote in force (one is required). */
export async function loadTransfer(
  cmd: Command,
  config: string,
  opts: TransferOptions,
): Promise<{ layout: Layout; pipeline: Pipeline; remote: RemoteSettings }> {
  const layout = layoutFrom(cmd);
  const pipeline = await load(layout, config, opts.set);
  return { layout, pipeline, remote: requireRemote(opts, pipeline) };
}
