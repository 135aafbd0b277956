/**
 * The stage key `allow:` of a config: the user's explicit opt-in to permissions beyond the
 * engine's policy (`pipeline/permissions/policy.ts`), e.g.
 *
 * ```yaml
 * probe:
 *   uses: probe
 *   allow: {read: ["/srv/data"], net: true, ffi: ["/opt/lib/libfoo.so"], env: [HF_TOKEN]}
 * ```
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { show } from "./errors.ts";
import type { StageAllow } from "../permissions/policy.ts";

/** A problem with an `allow:` value: the key path under the stage, and what is wrong. */
export interface AllowProblem {
  path: string[];
  problem: string;
}

const ALLOW_KEYS = ["net", "ffi", "read", "env"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates a stage's raw `allow:` value; returns it typed, or the first problem. */
export function parseAllow(raw: unknown): { allow?: StageAllow; problem?: AllowProblem } {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      problem: {
        path: [],
        problem: `found ${show(raw)}; expected a map with ${ALLOW_KEYS.join(", ")}`,
      },
    };
  }
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!ALLOW_KEYS.includes(key)) {
      return {
        problem: {
          path: [key],
          problem: `unknown allow key "${key}"; expected net, ffi, read or env`,
        },
      };
    }
  }
  if (o.net !== undefined && typeof o.net !== "boolean") {
    return { problem: { path: ["net"], problem: `found ${show(o.net)}; expected true or false` } };
  }
  const paths = (key: string, value: unknown): AllowProblem | undefined => {
    if (!Array.isArray(value) || value.some((p) => typeof p !== "string" || !isAbsolute(p))) {
      return { path: [key], problem: `found ${show(value)}; expected a list of absolute paths` };
    }
  };
  if (o.ffi !== undefined && o.ffi !== true && o.ffi !== false) {
    const problem = paths("ffi", o.ffi);
    if (problem) return { problem };
  }
  if (o.read !== undefined) {
    const problem = paths("read", o.read);
    if (problem) return { problem };
  }
  const names = o.env;
  if (
    names !== undefined &&
    (!Array.isArray(names) || names.some((n) => typeof n !== "string" || !ENV_NAME.test(n)))
  ) {
    return {
      problem: {
        path: ["env"],
        problem: `found ${show(names)}; expected a list of variable names`,
      },
    };
  }
  return { allow: o as StageAllow };
}
