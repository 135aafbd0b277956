/**
 * Size limits of a config, checked before and while loading so that a huge or hostile file is
 * refused at once with a clear error instead of hanging or exhausting memory. Real configs are
 * a few kB with a handful of stages; the limits leave two to three orders of magnitude of room.
 *
 * @module
 */
import { ConfigError, type Origin } from "./errors.ts";

/** Largest config file read (bytes). Checked before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Most stages a (merged) config may declare. */
export const MAX_STAGES = 10_000;

/** Most items of any one list in a config (params, `needs:` lists, `--set` values). */
export const MAX_LIST_ITEMS = 100_000;

/** Throws unless the file at `file` (with `size` bytes) is within {@link MAX_CONFIG_BYTES}. */
export function checkConfigSize(file: string, size: number): void {
  if (size <= MAX_CONFIG_BYTES) return;
  throw new ConfigError(
    { file },
    undefined,
    `file is ${mb(size)}, over the ${mb(MAX_CONFIG_BYTES)} limit for a config ` +
      `(MAX_CONFIG_BYTES in pipeline/config/limits.ts); expected a config of stages and params, ` +
      `with large data kept in files a stage reads`,
  );
}

/** Throws unless `count` stages are within {@link MAX_STAGES}. */
export function checkStageCount(origin: Origin, count: number): void {
  if (count <= MAX_STAGES) return;
  throw new ConfigError(
    origin,
    "stages",
    `${count} stages, over the limit of ${MAX_STAGES} (MAX_STAGES in pipeline/config/limits.ts)`,
  );
}

/**
 * The key path of the first list in `value` longer than {@link MAX_LIST_ITEMS} and its
 * length, or undefined. Iterative, so deep nesting cannot overflow the stack.
 */
export function findLongList(
  value: unknown,
): { path: (string | number)[]; length: number } | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (Array.isArray(v)) {
      if (v.length > MAX_LIST_ITEMS) return { path, length: v.length };
      v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: [...path, k] });
    }
  }
  return undefined;
}

/** The error for a list found by {@link findLongList}. */
export function longListError(origin: Origin, list: { path: (string | number)[]; length: number }) {
  return new ConfigError(
    origin,
    list.path.join("."),
    `a list of ${list.length} items, over the limit of ${MAX_LIST_ITEMS} ` +
      `(MAX_LIST_ITEMS in pipeline/config/limits.ts); expected large data in a file a stage reads`,
  );
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
