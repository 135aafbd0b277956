/**
 * The JSON that crosses the kind sandbox's pipes and its declarations file. Plain JSON turns
 * NaN and ±Infinity into null, so a config's `.nan` would reach the params check as `null` and
 * be reported as "found null"; here a non-finite number travels as `{"$number": "NaN"}`.
 *
 * @module
 */

// Taken when this module loads, before any kind's code runs in the sandbox.
const stringify = JSON.stringify;
const parse = JSON.parse;
const TAG = "$number";

/** `value` as JSON, non-finite numbers tagged. */
export function toWire(value: unknown): string {
  return stringify(
    value,
    (_key, v) => typeof v === "number" && !Number.isFinite(v) ? { [TAG]: String(v) } : v,
  );
}

/** The value {@link toWire} wrote, non-finite numbers restored. */
export function fromWire(text: string): unknown {
  return parse(text, (_key, v) => isTagged(v) ? Number(v[TAG]) : v);
}

function isTagged(v: unknown): v is { [TAG]: string } {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === TAG &&
    typeof (v as Record<string, unknown>)[TAG] === "string";
}
