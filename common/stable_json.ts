/**
 * Pretty, key-sorted JSON with a trailing newline: stable text for lock files, traces and
 * manifests (quiet git diffs, equal values give equal files).
 *
 * @module
 */
import { canonicalJson } from "./canonical_json.ts";

/** Stable, human-readable JSON text of `value`. */
export function stableJsonText(value: unknown): string {
  return JSON.stringify(JSON.parse(canonicalJson(value)), null, 2) + "\n";
}
