/**
 * `pull [config]`: download every stage result of a config that the remote cache holds for
 * its current cache keys (each blob verified), without running anything, and publish them
 * under `artifacts/out/<config>/`.
 *
 * @module
 */
import { join } from "node:path";
import type { Command } from "commander";
import { planPipeline } from "../../rebuilder/plan.ts";
import { lockPathFor, readLock } from "../../store/lockfile.ts";
import { LocalStore } from "../../store/objects.ts";
import { publishStageDir } from "../../store/publish.ts";
import { acquireRepoLock, describeHolder } from "../../store/repo_lock.ts";
import { openCache } from "../../rebuilder/open_cache.ts";
import type { TieredCache } from "../../store/tiered_cache.ts";
import { describeMoved } from "../remote_options.ts";
import { loadTransfer, transferCommand, type TransferOptions } from "./transfer.ts";

/** Adds the command to the program. */
export function registerPull(root: Command): void {
  transferCommand(root, {
    name: "pull",
    description: "download a config's results from the remote cache (verified), running nothing",
  }).action(async (config: string, opts: TransferOptions, cmd: Command) => {
    const { layout, pipeline: p, remote } = await loadTransfer(cmd, config, opts);
    // shared, like a run: objects and traces are written atomically; only gc excludes it
    using _lock = await acquireRepoLock(layout.artifacts, {
      mode: "shared",
      command: "pipeline pull",
      onWait: (h) =>
        console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(h)}`),
    });
    const store = new LocalStore(layout.objects);
    const cache = openCache({
      layout,
      store,
      remote,
      mode: "pull",
      onWarning: (message) => console.error(`warning: ${message}`),
    }) as TieredCache;
    const plans = await planPipeline({
      pipeline: p,
      layout,
      lock: await readLock(lockPathFor(p.path)),
      cache,
    });
    const missing: string[] = [];
    let local = 0;
    for (const plan of plans) {
      const f = plan.freshness;
      if (f.state === "stale") {
        missing.push(plan.stage);
        continue;
      }
      if (!f.notes.some((n) => n.kind === "remote")) local++;
      await publishStageDir(store, join(layout.out, p.name, plan.stage), f.trace.outputs);
    }
    await store.flush();
    console.log(
      `pull: ${cache.pulled.results} stage(s) pulled from ${remote.url} ` +
        `(${describeMoved(cache.pulled)}), ${local} already local, ` +
        `${missing.length} not in the remote cache${
          missing.length ? `: ${missing.join(", ")}` : ""
        }`,
    );
  });
}
