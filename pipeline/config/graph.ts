/**
 * Ordering of config stages: topological order with declaration-order tie-breaking, or the
 * cycle that prevents one.
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
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => !placed.has(n) && upstream(n).every((u) => placed.has(u)));
    if (next === undefined) {
      return { cycle: findCycle(names.filter((n) => !placed.has(n)), upstream) };
    }
    placed.add(next);
    order.push(next);
  }
  return { order };
}

/** Every stage in `stuck` has an upstream in `stuck`, so following them must revisit one. */
function findCycle(stuck: readonly string[], upstream: (name: string) => string[]): string[] {
  const inStuck = new Set(stuck);
  const path: string[] = [];
  let current = stuck[0];
  while (!path.includes(current)) {
    path.push(current);
    current = upstream(current).find((u) => inStuck.has(u))!;
  }
  const loop = path.slice(path.indexOf(current));
  return [...loop, current].reverse();
}
