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
 * Weighted semaphore with FIFO waiters: `with(fn, weight)` holds `weight` of the slots (a
 * stage's cores) while `fn` runs. A weight above the capacity is cut to the capacity, so such a
 * task runs alone instead of never. Waiters are served in order: a big task at the head is not
 * overtaken by small ones behind it.
 */
export class Semaphore {
  readonly #capacity: number;
  #free: number;
  #waiters: { weight: number; wake: () => void }[] = [];

  constructor(slots: number) {
    this.#capacity = this.#free = Math.max(1, slots);
  }

  /** Runs `fn` holding `weight` slots (default 1). */
  async with<T>(fn: () => Promise<T>, weight = 1): Promise<T> {
    const w = Math.min(Math.max(1, weight), this.#capacity);
    if (this.#waiters.length === 0 && this.#free >= w) this.#free -= w;
    else await new Promise<void>((wake) => this.#waiters.push({ weight: w, wake }));
    try {
      return await fn();
    } finally {
      this.#free += w;
      this.#wakeWaiters();
    }
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0 && this.#waiters[0].weight <= this.#free) {
      const next = this.#waiters.shift()!;
      this.#free -= next.weight;
      next.wake();
    }
  }
}
