/**
 * Topological scheduling of a DAG of tasks: every task starts as soon as all its
 * dependencies succeeded, so independent tasks run concurrently; a failed task marks its
 * transitive dependants skipped while unrelated tasks carry on. How many run at once is limited
 * by a `Semaphore` the task takes only around its expensive part (cache hits take no slot).
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

/** Counting semaphore with FIFO waiters. */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];

  constructor(slots: number) {
    this.#free = Math.max(1, slots);
  }

  /** Runs `fn` holding one slot. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#waiters.push(r));
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
