/**
 * Ordering of config stages: topological order with declaration-order tie-breaking, or the
 * cycle that prevents one. Linear in stages + edges (times log of the ready set).
 *
 * @module
 */

/** The stages in run order, or a dependency cycle in data-flow order (`a -> b -> a`). */
export type TopoResult = { order: string[] } | { cycle: string[] };

/**
 * Orders `names` (in declaration order) so each comes after everything `upstream(name)`
 * returns; among the stages ready at any point, the one declared first goes first.
 */
export function topoOrder(
  names: readonly string[],
  upstream: (name: string) => string[],
): TopoResult {
  const index = new Map(names.map((n, i) => [n, i]));
  const waiting = names.map(() => 0);
  const downstream: number[][] = names.map(() => []);
  names.forEach((n, i) => {
    for (const u of new Set(upstream(n))) {
      const j = index.get(u);
      if (j === undefined) continue;
      waiting[i]++;
      downstream[j].push(i);
    }
  });
  const ready = new MinHeap();
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  const order: string[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(names[i]);
    for (const d of downstream[i]) if (--waiting[d] === 0) ready.push(d);
  }
  if (order.length === names.length) return { order };
  const placed = new Set(order);
  return { cycle: findCycle(names.filter((n) => !placed.has(n)), upstream) };
}

/** Every stage in `stuck` has an upstream in `stuck`, so following them must revisit one. */
function findCycle(stuck: readonly string[], upstream: (name: string) => string[]): string[] {
  const inStuck = new Set(stuck);
  const seen = new Map<string, number>();
  const path: string[] = [];
  let current = stuck[0];
  while (!seen.has(current)) {
    seen.set(current, path.length);
    path.push(current);
    current = upstream(current).find((u) => inStuck.has(u))!;
  }
  const loop = path.slice(seen.get(current));
  return [...loop, current].reverse();
}

/** A binary min-heap of numbers (declaration indices). */
class MinHeap {
  #a: number[] = [];

  get size(): number {
    return this.#a.length;
  }

  push(x: number): void {
    const a = this.#a;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= x) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = x;
  }

  pop(): number {
    const a = this.#a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
      if (a[c] >= last) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = last;
    return top;
  }
}
