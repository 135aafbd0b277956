/**
 * `verify [config] [--all] [--repair]`: re-hash every object a lock file or trace references
 * (like `git fsck`); exit 1 when any is missing or corrupt, saying which stage it belongs to
 * and how to repair it.
 *
 * @module
 */
import type { Command } from "commander";
import { lockPathFor } from "../../store/lockfile.ts";
import { LocalStore } from "../../store/objects.ts";
import { acquireRepoLock, describeHolder } from "../../store/repo_lock.ts";
import { type VerifyReport, verifyStore } from "../../store/verify.ts";
import { findConfig, projectRelative } from "../../config/experiments.ts";
import { UsageError } from "../../config/usage_error.ts";
import { layoutFrom } from "../options.ts";

/** Adds the command to the program. */
export function registerVerify(root: Command): void {
  root.command("verify")
    .description(
      "re-hash every stored object a lock file or trace references (like git fsck); " +
        "exit 1 when one is missing or corrupt",
    )
    .argument("[config]", "only the objects of this config's lock file (default: --all)")
    .option("--all", "every lock file and every trace (the default)")
    .option("--repair", "remove corrupt objects, so the next run recomputes them")
    .action(async (config: string | undefined, opts: { all?: boolean; repair?: boolean }, cmd) => {
      const layout = layoutFrom(cmd);
      if (config && opts.all) throw new UsageError("verify: give a config or --all, not both");
      let scope: "all" | { locks: string[] } = "all";
      if (config) {
        const path = await findConfig(layout, config);
        if (!path) throw new UsageError(`config file not found: ${config}`);
        scope = { locks: [lockPathFor(path)] };
      }
      using _lock = opts.repair
        ? await acquireRepoLock(layout.artifacts, "pipeline verify --repair", (h) => {
          console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(h)}`);
        })
        : undefined;
      const store = new LocalStore(layout.objects);
      const r = await verifyStore({ layout, store, scope, repair: opts.repair });
      for (const line of reportLines(r, (d) => projectRelative(layout, store.path(d)))) {
        console.log(line);
      }
      if (r.bad.length || r.unreadable.length) Deno.exitCode = 1;
    });
}

/** The lines `verify` prints: each problem with its stages, the summary, the repair hint. */
function reportLines(r: VerifyReport, objectPath: (digest: string) => string): string[] {
  const lines: string[] = [];
  for (const u of r.unreadable) lines.push(`unreadable: ${u.path}: ${u.problem}`);
  for (const b of r.bad) {
    lines.push(
      `${b.state}: ${objectPath(b.digest)}${
        b.state === "corrupt" && r.removed ? " (removed)" : ""
      }`,
    );
    for (const ref of b.refs) lines.push(`  ${ref.stage}/${ref.file} in ${ref.source}`);
  }
  for (const [lock, n] of Object.entries(r.absent.byLock)) {
    lines.push(`note: ${n} object(s) of ${lock} were never computed here; a run computes them`);
  }
  const corrupt = r.bad.filter((b) => b.state === "corrupt").length;
  lines.push(
    `verify: ${r.checked} objects checked (${(r.bytes / 1e6).toFixed(1)} MB intact), ` +
      `${corrupt} corrupt, ${r.bad.length - corrupt} missing` +
      (r.unreadable.length ? `, ${r.unreadable.length} unreadable lock file(s)` : ""),
  );
  if (r.bad.length) {
    const stages = [...new Set(r.bad.flatMap((b) => b.refs.map((x) => x.stage)))].join(", ");
    lines.push(
      r.removed
        ? `repair: the next \`pipeline run CONFIG\` recomputes ${stages}`
        : `repair: \`pipeline verify --repair\` removes the corrupt objects so the next run ` +
          `recomputes them, or \`pipeline run CONFIG --force STAGE\` (stages: ${stages})`,
    );
  }
  return lines;
}
