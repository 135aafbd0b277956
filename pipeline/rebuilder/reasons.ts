/**
 * Why a stage is stale (or a note on a fresh one), as typed values: the one vocabulary that
 * `run`, `status` and `run --dry-run` share. `describeReason` turns a reason into the words
 * every front end prints; `--json` prints the values themselves (each with its words).
 *
 * @module
 */

/** A field of the fingerprint that is neither params, inputs, code, npm nor runtime. */
export type ContractField = "engine" | "uses" | "stage" | "deno" | "platform";

/** One reason a stage has to run. */
export type StaleReason =
  /** The config's lock file has no entry for the stage. */
  | { kind: "never-run" }
  /** `--force` (every stage, or this one). */
  | { kind: "forced" }
  /** An upstream stage is stale, so this stage's inputs (and key) are not known yet. */
  | { kind: "upstream-stale"; stage: string }
  /** The cached result's object is gone or its bytes no longer match its digest. */
  | { kind: "output-bad"; file: string; digest: string; state: "missing" | "corrupt" }
  /** A param (dotted path) changed. */
  | { kind: "param-changed"; key: string; old: unknown; new: unknown }
  /** Files of an upstream stage's outputs that this input reads changed. */
  | { kind: "input-changed"; input: string; stage: string; files: string[] }
  /** The input is now fed by other upstream stages. */
  | { kind: "input-rewired"; input: string; old: string[]; new: string[] }
  /** A local module of the stage's import graph was edited, added or dropped. */
  | { kind: "module-changed"; path: string; change: "edited" | "added" | "removed" }
  /**
   * The code digest differs from the lock's (the lock records only the digest of the whole
   * import graph, so when the locked run's trace is not here the module cannot be named).
   */
  | { kind: "code-changed"; old: string; new: string }
  /** An npm package of the import graph resolved to another version. */
  | { kind: "npm-changed"; package: string; old?: string; new?: string }
  /** A runtime setting (`kind.runtime(params)`, e.g. the BLAS kernel) differs. */
  | { kind: "runtime-changed"; setting: string; old?: string; new?: string }
  /** The engine protocol, kind, stage name, Deno version or platform changed. */
  | { kind: "contract-changed"; field: ContractField; old: string; new: string }
  /** The lock's run is not in this cache and nothing recorded in the lock differs. */
  | { kind: "locked-run-not-cached"; key: string }
  /** Nothing else explains it: no result is cached for the current key. */
  | { kind: "no-cached-result" };

/** A note on a stage that is up to date. */
export type FreshNote =
  /** Cached (e.g. by an experiment) under a key the config's lock file does not hold yet. */
  | { kind: "lock-outdated"; lockedKey: string }
  /** The result came from the remote cache (record `url`): downloaded, or only seen there. */
  | { kind: "remote"; url: string; pulled: boolean };

/** `"x"` for values, `(unset)` for undefined. */
function show(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}

/** The words for a reason or a note, as `status`, `--dry-run` and run reports print them. */
export function describeReason(r: StaleReason | FreshNote): string {
  switch (r.kind) {
    case "never-run":
      return "never run for this config (no entry in its lock file)";
    case "forced":
      return "forced (--force)";
    case "upstream-stale":
      return `upstream ${r.stage} is stale`;
    case "output-bad":
      return `cached output ${r.file} is ${r.state}`;
    case "param-changed":
      return `param ${r.key}: ${show(r.old)} → ${show(r.new)}`;
    case "input-changed":
      return `input ${r.input}: ${r.stage} outputs changed (${r.files.join(", ")})`;
    case "input-rewired":
      return `input ${r.input}: upstream [${r.old.join(", ")}] → [${r.new.join(", ")}]`;
    case "module-changed":
      return r.change === "added"
        ? `module ${r.path} added`
        : r.change === "removed"
        ? `module ${r.path} no longer imported`
        : `module ${r.path} changed`;
    case "code-changed":
      return `code digest ${r.old.slice(0, 12)} → ${r.new.slice(0, 12)} (a module changed)`;
    case "npm-changed":
      return `npm ${r.package}: ${r.old ?? "(none)"} → ${r.new ?? "(none)"}`;
    case "runtime-changed":
      return `runtime ${r.setting}: ${r.old ?? "(unset)"} → ${r.new ?? "(unset)"}`;
    case "contract-changed":
      return `${CONTRACT_LABEL[r.field]} ${r.old} → ${r.new}`;
    case "locked-run-not-cached":
      return `the locked run (key ${
        r.key.slice(0, 12)
      }) is not in the cache (gc'd or never run here)`;
    case "no-cached-result":
      return "no cached result for the current key";
    case "lock-outdated":
      return "cached from another run; lock file not yet updated";
    case "remote":
      return r.pulled
        ? `pulled from the remote cache (${r.url}), every blob verified`
        : `in the remote cache (${r.url}), not downloaded yet: run or pull fetches it`;
  }
}

const CONTRACT_LABEL: Record<ContractField, string> = {
  engine: "engine protocol",
  uses: "kind",
  stage: "stage name",
  deno: "deno",
  platform: "platform",
};
