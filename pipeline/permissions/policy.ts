/**
 * The engine's permission policy for stage kinds, and the config's opt-in beyond it.
 *
 * Within the policy a kind's declaration is granted as it stands:
 * - `net`: a list of hosts (`host` or `host:port`);
 * - `ffi`: absolute paths of BLAS libraries (file name `libopenblas…`, `libblas…`, `libcblas…`);
 * - `read`: paths inside the project, or under the system data dirs ({@link SYSTEM_DATA_DIRS});
 * - `env`: variables the engine sets (never the caller's own values).
 * Anything else (unscoped network `net: true`, unscoped FFI `ffi: true`, any other library, a
 * read path elsewhere such as `/`) is refused unless the stage's `allow:` in the config names
 * it: `allow: {net: true}`, `allow: {ffi: [/path/lib.so]}` (or `true`), `allow: {read: [/path]}`.
 * The caller's own environment reaches a stage only by name through `allow: {env: [NAME]}`.
 *
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import type { StagePermissions } from "../stage_kind.ts";

/** Read-only system dirs a kind may read without opt-in (Debian's packaged data sets). */
export const SYSTEM_DATA_DIRS = ["/usr/share/datasets"] as const;

/** File names of the native libraries a kind may load without opt-in: BLAS implementations. */
const BLAS_LIBRARY = /^lib(open)?c?blas[\w.+-]*\.(so(\.\d+)*|dylib)$/;

/** The config's `allow:` on a stage: what the user lets its kind have beyond the policy. */
export interface StageAllow {
  /** Any network host. */
  net?: boolean;
  /** Any library (`true`) or these absolute library paths. */
  ffi?: boolean | string[];
  /** These extra paths (a declared read path must be one of them or inside one). */
  read?: string[];
  /** Variables of the engine's environment passed on to the stage (when set there). */
  env?: string[];
}

/** One permission the policy refuses, with the `allow:` key that would grant it. */
export interface PolicyViolation {
  /** The `allow:` key to set, e.g. `allow.read`. */
  key: string;
  /** What the kind asked for, in words. */
  asked: string;
  /** The line to add under the stage, e.g. `allow: {read: ["/"]}`. */
  fix: string;
}

/** Whether `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Checks a kind's declaration against the policy and the stage's `allow:`; [] when granted. */
export function policyViolations(
  declared: StagePermissions,
  o: { root: string; allow?: StageAllow },
): PolicyViolation[] {
  const allow = o.allow ?? {};
  const found: PolicyViolation[] = [];
  if (declared.net === true && allow.net !== true) {
    found.push({
      key: "allow.net",
      asked: "network access to any host",
      fix: "allow: {net: true}",
    });
  }
  const libraries = declared.ffi === true ? ["(any library)"] : declared.ffi || [];
  for (const lib of libraries) {
    const granted = allow.ffi === true || (Array.isArray(allow.ffi) && allow.ffi.includes(lib));
    const inPolicy = declared.ffi !== true && isAbsolute(lib) &&
      BLAS_LIBRARY.test(lib.split("/").pop()!);
    if (!granted && !inPolicy) {
      found.push({
        key: "allow.ffi",
        asked: declared.ffi === true ? "FFI with any native library" : `FFI with ${lib}`,
        fix: `allow: {ffi: ${declared.ffi === true ? "true" : JSON.stringify([lib])}}`,
      });
    }
  }
  for (const path of declared.read ?? []) {
    const inPolicy = within(path, o.root) || SYSTEM_DATA_DIRS.some((d) => within(path, d));
    if (!inPolicy && !(allow.read ?? []).some((dir) => within(path, dir))) {
      found.push({
        key: "allow.read",
        asked: `read access to ${path} (outside the project)`,
        fix: `allow: {read: [${JSON.stringify(path)}]}`,
      });
    }
  }
  return found;
}

/** One violation as the error line a user reads: stage, what it asked, the key to opt in with. */
export function describeViolation(stage: string, v: PolicyViolation): string {
  return `stage "${stage}" asks for ${v.asked}, beyond the engine's policy; ` +
    `if you trust its kind, opt in with ${v.key} on the stage (${v.fix})`;
}
