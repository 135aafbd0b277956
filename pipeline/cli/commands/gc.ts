/**
 * `gc`: remove cached objects no lock file references.
 *
 * @module
 */
import type { Command } from "commander";
import { collectGarbage } from "../../store/gc.ts";
import { LocalStore } from "../../store/objects.ts";
import { acquireRepoLock, describeHolder } from "../../store/repo_lock.ts";
import { layoutFrom } from "../options.ts";

/** Adds the command to the program. */
export function registerGc(root: Command): void {
  root.command("gc")
    .description("remove cached objects that no lock file (config or experiment) references")
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      using _lock = await acquireRepoLock(layout.artifacts, {
        mode: "exclusive",
        command: "pipeline gc",
        onWait: (h) =>
          console.error(
            `waiting for ${layout.artifacts}/lock, held by ${
              h ? describeHolder(h) : "runs in progress"
            }`,
          ),
      });
      const r = await collectGarbage(layout, new LocalStore(layout.objects));
      console.log(
        `gc: removed ${r.objects} objects, ${r.traces} traces` +
          (r.outDirs.length ? `, out dirs ${r.outDirs.join(", ")}` : "") +
          `; freed ${
            (r.bytes / 1e6).toFixed(1)
          } MB (${r.bytes} bytes); kept what ${r.locks.length} lock files reference`,
      );
    });
}
