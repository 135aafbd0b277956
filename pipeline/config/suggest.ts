/**
 * "Did you mean …?" for names typed on the command line: the configs a project has, and the
 * candidate closest to a mistyped name.
 *
 * @module
 */
import { join } from "node:path";
import { dirEntries } from "../../common/dir_entries.ts";
import type { Layout } from "../store/layout.ts";

/** The project's config files, as `configs/<name>.yaml` relative to the root, sorted. */
export async function listConfigs(layout: Layout): Promise<string[]> {
  return (await dirEntries(join(layout.root, "configs")))
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => `configs/${e.name}`)
    .sort();
}

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * The candidate closest to `typed`, compared also without a `configs/` prefix and a YAML
 * extension (so `smoke`, `smok.yaml` and `configs/smoke.yml` all find `configs/smoke.yaml`);
 * undefined when none is within a third of the name's length (at least 2 edits).
 */
export function closest(typed: string, candidates: string[]): string | undefined {
  const bare = (s: string) => s.replace(/^(\.\/)?configs\//, "").replace(/\.ya?ml$/, "");
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(bare(typed), bare(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  const limit = Math.max(2, Math.floor(bare(typed).length / 3));
  return best && best.distance <= limit ? best.name : undefined;
}
