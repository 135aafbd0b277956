/**
 * Nested records as dotted keys: plain objects are descended, lists and scalars are leaves.
 *
 * @module
 */

/** Dotted key → leaf value, keys prefixed with `prefix`. */
export function flatten(
  obj: Record<string, unknown>,
  prefix = "",
  out: Map<string, unknown> = new Map(),
): Map<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
      flatten(v as Record<string, unknown>, `${key}.`, out);
    } else {
      out.set(key, v);
    }
  }
  return out;
}
