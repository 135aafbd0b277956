/**
 * `gc`: remove cached objects no lock file references. `--dry-run` lists what would go; on a
 * terminal gc asks before deleting unless `-f`; without a terminal (scripts, CI) it deletes
 * only with `-f`, since nobody can answer.
 *
 * @module
 */
import type { Command } from "commander";
import { type GcPlan, GcRefused, planBytes, planGarbage, removeGarbage } from "../../store/gc.ts";
import { LocalStore } from "../../store/objects.ts";
import { acquireRepoLock, describeHolder } from "../../store/repo_lock.ts";
import { UsageError } from "../../config/usage_error.ts";
import { projectRelative } from "../../config/experiments.ts";
import type { Layout } from "../../store/layout.ts";
import { layoutFrom } from "../options.ts";

/** Adds the command to the program. */
export function registerGc(root: Command): void {
  root.command("gc")
    .description("remove cached objects that no lock file (config or experiment) references")
    .option("-f, --force", "delete without asking (required when not on a terminal)")
    .option("--dry-run", "list what would be removed and the space it frees; remove nothing")
    .action(async (opts: { force?: boolean; dryRun?: boolean }, cmd: Command) => {
      const layout = layoutFrom(cmd);
      using _lock = await acquireRepoLock(layout.artifacts, "pipeline gc", (h) => {
        console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(h)}`);
      });
      const store = new LocalStore(layout.objects);
      let plan: GcPlan;
      try {
        plan = await planGarbage(layout, store);
      } catch (e) {
        if (e instanceof GcRefused) throw new UsageError(e.message);
        throw e;
      }
      if (opts.dryRun) {
        for (const line of planLines(layout, plan)) console.log(line);
        console.log(`gc --dry-run: ${summary(plan, "would remove", "would free")}`);
        return;
      }
      if (!opts.force && !confirm(layout, plan)) return;
      await removeGarbage(layout, store, plan);
      console.log(`gc: ${summary(plan, "removed", "freed")}`);
    });
}

/** `removed 5 objects, 4 traces, out dirs tmp; freed 0.0 MB (123 bytes); kept what 2 lock …` */
function summary(plan: GcPlan, remove: string, free: string): string {
  const bytes = planBytes(plan);
  return `${remove} ${plan.objects.length} objects, ${plan.traces.length} traces` +
    (plan.outDirs.length ? `, out dirs ${plan.outDirs.join(", ")}` : "") +
    `; ${free} ${(bytes / 1e6).toFixed(1)} MB (${bytes} bytes); ` +
    `kept what ${plan.locks.length} lock files reference`;
}

/** One line per thing a plan removes. */
function planLines(layout: Layout, plan: GcPlan): string[] {
  const rel = (p: string) => projectRelative(layout, p);
  return [
    ...plan.outDirs.map((n) => `remove ${rel(`${layout.out}/${n}`)}/`),
    ...plan.objects.map((o) =>
      `remove ${rel(`${layout.objects}/${o.digest.slice(0, 2)}/${o.digest}`)} (${o.size} bytes)`
    ),
    ...plan.traces.map((k) => `remove ${rel(`${layout.cache}/${k}.json`)}`),
    ...(plan.stateBytes ? [`remove ${rel(layout.state)}/ (${plan.stateBytes} bytes)`] : []),
  ];
}

/** Asks on a terminal; refuses without one. */
function confirm(layout: Layout, plan: GcPlan): boolean {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      "gc: not on a terminal, so it cannot ask; rerun with -f to delete, or --dry-run to list",
    );
  }
  const lines = planLines(layout, plan);
  for (const line of lines.slice(0, 20)) console.log(line);
  if (lines.length > 20) console.log(`… ${lines.length - 20} more (see gc --dry-run)`);
  const answer = prompt(`gc: ${summary(plan, "remove", "frees")}. Proceed? [y/N]`);
  if (answer?.trim().toLowerCase().startsWith("y")) return true;
  console.log("gc: nothing removed");
  return false;
}
