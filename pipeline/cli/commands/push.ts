/**
 * `push [config]`: upload every stage result of a config that is in the local cache for its
 * current cache keys to the remote cache (blobs the server lacks, then each record).
 *
 * @module
 */
import type { Command } from "commander";
import { planPipeline } from "../../rebuilder/plan.ts";
import { lockPathFor, readLock } from "../../store/lockfile.ts";
import { findManifest } from "../../store/manifest.ts";
import { LocalStore } from "../../store/objects.ts";
import { openCache } from "../../rebuilder/open_cache.ts";
import type { TieredCache } from "../../store/tiered_cache.ts";
import { describeMoved } from "../remote_options.ts";
import { loadTransfer, transferCommand, type TransferOptions } from "./transfer.ts";

/** Adds the command to the program. */
export function registerPush(root: Command): void {
  transferCommand(root, {
    name: "push",
    description: "upload a config's results from the local cache to the remote cache",
  }).action(async (config: string, opts: TransferOptions, cmd: Command) => {
    const { layout, pipeline: p, remote } = await loadTransfer(cmd, config, opts);
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
