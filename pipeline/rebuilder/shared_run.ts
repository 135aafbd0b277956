/**
 * What concurrent pipeline runs in one process share: the stage slots (`--jobs` across all of
 * them), the per-cache-key locks (a key is computed once, the others wait and reuse it) and the
 * object store (one verification memo, so that no run's flush drops what another learnt).
 * A single run makes its own; `runPipelines` (multi.ts) makes one for all its runs.
 *
 * @module
 */
import { Semaphore } from "../scheduler/dag.ts";
import { KeyLocks } from "../store/key_locks.ts";
import type { Layout } from "../store/layout.ts";
import { LocalStore } from "../store/objects.ts";

/** Slots and key locks shared by the runs of one process. */
export interface SharedRun {
  /** Stage executions at once, across every run sharing it. */
  slots: Semaphore;
  keys: KeyLocks;
  /**
   * Keys computed by these runs: a forced key is computed once, not once per run, and a run that
   * waited for one takes the objects just stored as they are, as the run that stored them does.
   */
  computed: Set<string>;
  /** The local object store of `layout`. */
  store: LocalStore;
}

/** A fresh `SharedRun` for `layout` with `jobs` slots; `command` is shown to waiting processes. */
export function sharedRun(o: { layout: Layout; jobs: number; command?: string }): SharedRun {
  return {
    slots: new Semaphore(o.jobs),
    keys: new KeyLocks({ dir: o.layout.keyLocks, command: o.command ?? "pipeline" }),
    computed: new Set(),
    store: new LocalStore(o.layout.objects),
  };
}
