/**
 * `push [config]`: upload every stage result of a config that is in the local cache for its
 * current cache keys to the remote cache (blobs the server lacks, then each record).
 *
 * @module
 */
import type { Command } from "commander";
import type { RemoteFlags } from "../../config/remote.ts";
import { planPipeline } from "../../rebuilder/plan.ts";
import { lockPathFor, readLock } from "../../store/lockfile.ts";
import { findManifest } from "../../store/manifest.ts";
import { LocalStore } from "../../store/objects.ts";
import { openCache } from "../../rebuilder/open_cache.ts";
import type { TieredCache } from "../../store/tiered_cache.ts";
import { collect, DEFAULT_CONFIG, layoutFrom, load } from "../options.ts";
import { describeMoved, remoteOptions, requireRemote } from "../remote_options.ts";

/** Adds the command to the program. */
export function registerPush(root: Command): void {
  remoteOptions(
    root.command("push")
      .description("upload a config's results from the local cache to the remote cache")
      .argument("[config]", "config file", DEFAULT_CONFIG)
      .option("--set <key=value>", "as for run (repeatable)", collect, []),
  ).action(async (config: string, opts: RemoteFlags & { set: string[] }, cmd: Command) => {
    const layout = layoutFrom(cmd);
    const p = await load(layout, config, opts.set);
    const remote = requireRemote(opts, p);
    const store = new LocalStore(layout.objects);
    const plans = await planPipeline({
      pipeline: p,
      layout,
      lock: await readLock(lockPathFor(p.path)),
    });
    const cache = openCache({
      layout,
      store,
      remote,
      mode: "peek",
      onWarning: (message) => console.error(`warning: ${message}`),
    }) as TieredCache;
    const notHere: string[] = [];
    for (const plan of plans) {
      const f = plan.freshness;
      if (f.state === "stale") {
        notHere.push(plan.stage);
        continue;
      }
      const manifest = await findManifest(layout.runs, f.key) ??
        { status: "ok", stage: plan.stage, key: f.key, fingerprint: f.fingerprint };
      await cache.push(f.trace, manifest);
    }
    console.log(
      `push: ${cache.pushed.results} stage(s) to ${remote.url} (${describeMoved(cache.pushed)} ` +
        `uploaded, the rest already there), ${notHere.length} not in the local cache` +
        (notHere.length ? ` (run them first): ${notHere.join(", ")}` : ""),
    );
    if (notHere.length) Deno.exitCode = 1;
  });
}
