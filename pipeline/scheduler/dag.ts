/**
 * Topological scheduling of a DAG of tasks: every task starts as soon as all its
 * dependencies succeeded, so independent tasks run concurrently; a failed task marks its
 * transitive dependants skipped while unrelated tasks carry on. How many run at once is limited
 * by a `Semaphore` the task takes only around its expensive part (cache hits take no slot),
 * weighted by what it needs (a stage's cores).
 *
 * @module
 */

/** A node of the DAG. */
export interface Task {
  name: string;
  /** Names of tasks that must succeed first. */
  deps: string[];
}

/** How a task ended. */
export type TaskResult = "ok" | "failed" | "skipped";

/**
 * Runs `work` for every task after its deps succeeded. `work` resolving to false (or throwing)
 * fails the task. Tasks must be listed in topological order.
 */
export async function schedule(
  tasks: Task[],
  work: (name: string) => Promise<boolean>,
  onSkip: (name: string, failedDep: string) => void,
): Promise<Map<string, TaskResult>> {
  const results = new Map<string, TaskResult>();
  const promises = new Map<string, Promise<TaskResult>>();
  for (const task of tasks) {
    const deps = task.deps.map((d) => {
      const p = promises.get(d);
      if (!p) throw new Error(`task ${task.name} depends on ${d}, which is not listed before it`);
      return p.then((r) => [d, r] as const);
    });
    const p = Promise.all(deps).then(async (depResults) => {
      const bad = depResults.find(([, r]) => r !== "ok");
      let result: TaskResult;
      if (bad) {
        onSkip(task.name, bad[0]);
        result = "skipped";
      } else {
        result = await work(task.name).catch(() => false) ? "ok" : "failed";
      }
      results.set(task.name, result);
      return result;
    });
    promises.set(task.name, p);
  }
  await Promise.all(promises.values());
  return results;
}

/**
 * A task's place in the start order while it finds out whether it needs slots at all (a cache
 * lookup): until it is released, or passed to {@link Semaphore.with}, requests of a later rank
 * wait. Releasing twice is harmless.
 */
export interface Hold {
  /** Lower ranks start first (a stage's position in its pipeline). */
  readonly rank: number;
  release(): void;
}

/**
 * Weighted semaphore served in rank order: `with(fn, weight, place)` holds `weight` of the slots
 * (a stage's cores) while `fn` runs. A weight above the capacity is cut to the capacity, so such
 * a task runs alone instead of never. Waiters are served by rank, then in order of arrival; a big
 * task at the head is not overtaken by small ones behind it, and while a task of an earlier rank
 * holds its place ({@link hold}) no later one starts, so tasks that become ready together start
 * in rank order however long their lookups take.
 */
export class Semaphore {
  readonly #capacity: number;
  #free: number;
  #waiters: { weight: number; rank: number; seq: number; wake: () => void }[] = [];
  #holds = new Set<Hold>();
  #seq = 0;

  constructor(slots: number) {
    this.#capacity = this.#free = Math.max(1, slots);
  }

  /**
   * Takes a place at `rank` in the start order. Release it (or pass it to {@link with}) before
   * waiting on anything but I/O: a held place stops every later rank from starting.
   */
  hold(rank: number): Hold {
    const place: Hold = {
      rank,
      release: () => {
        if (this.#holds.delete(place)) this.#wakeWaiters();
      },
    };
    this.#holds.add(place);
    return place;
  }

  /**
   * Runs `fn` holding `weight` slots (default 1), at the rank of `place` (which it releases),
   * or after every ranked task when there is none.
   */
  async with<T>(fn: () => Promise<T>, weight = 1, place?: Hold): Promise<T> {
    const w = Math.min(Math.max(1, weight), this.#capacity);
    const rank = place?.rank ?? Infinity;
    const granted = new Promise<void>((wake) =>
      this.#waiters.push({ weight: w, rank, seq: this.#seq++, wake })
    );
    this.#waiters.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
    if (place) this.#holds.delete(place);
    this.#wakeWaiters();
    await granted;
    try {
      return await fn();
    } finally {
      this.#free += w;
      this.#wakeWaiters();
    }
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0 && this.#waiters[0].weight <= this.#free) {
      const head = this.#waiters[0];
      for (const h of this.#holds) if (h.rank < head.rank) return;
      this.#waiters.shift();
      this.#free -= head.weight;
      head.wake();
    }
  }
}
