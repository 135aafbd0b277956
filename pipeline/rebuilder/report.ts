/**
 * One record per stage of a run (fingerprint, key, trace, outcome, timings), and what is
 * derived from the records: the provenance handed to dependants, the lock file, the run report.
 *
 * @module
 */
import { relative } from "node:path";
import type { Pipeline, StageSpec } from "../config/config.ts";
import { type LockedStage, type LockFile, machineFacts } from "../store/lockfile.ts";
import type { Trace } from "../store/trace.ts";
import type { Provenance, StageProvenance } from "../stage_kind.ts";
import type { Freshness } from "./freshness.ts";

/** How one stage ended. */
export type StageOutcome = "ran" | "cached" | "pulled" | "failed" | "skipped" | "interrupted";

/** When a stage ran. */
export interface Timings {
  start: Date;
  end: Date;
  seconds: number;
}

/** Everything the engine knows about one stage of the run. */
export interface StageRecord {
  spec: StageSpec;
  /** The lookup's verdict: fingerprint, key, code digest, reasons. */
  freshness?: Freshness;
  /** The result (cached or just stored). */
  trace?: Trace;
  outcome?: StageOutcome;
  /** Set when the stage ran (or failed while running). */
  timings?: Timings;
  error?: string;
}

/** How one stage ended, as the run report lists it. */
export interface StageReport {
  stage: string;
  uses: string;
  status: StageOutcome;
  key?: string;
  outputs?: Record<string, string>;
  metrics?: unknown;
  seconds?: number;
  error?: string;
}

/** The machine-readable report of a run (`--json`). */
export interface RunReport {
  config: string;
  name: string;
  stages: StageReport[];
  ran: number;
  cached: number;
  /** Stages whose result was downloaded from the remote cache (not counted as cached). */
  pulled: number;
  failed: number;
  skipped: number;
  /** Stages stopped or never started because the run was interrupted (Ctrl-C, SIGTERM). */
  interrupted: number;
  /** The lock content when the run succeeded. */
  lock?: LockFile;
  /** Path of the lock file written (or unchanged) by this run. */
  lockPath?: string;
}

/** A record's line in the run report. */
export function stageReport(r: StageRecord): StageReport {
  return {
    stage: r.spec.name,
    uses: r.spec.uses,
    status: r.outcome!,
    key: r.freshness?.key,
    outputs: r.trace?.outputs,
    metrics: r.trace?.metrics,
    seconds: r.outcome === "ran" ? r.timings?.seconds : undefined,
    error: r.error,
  };
}

/** The cache-key facts of a stage (outputs once it has a result). */
export function stageProvenance(r: StageRecord): StageProvenance {
  const f = r.freshness!;
  return {
    uses: r.spec.uses,
    key: f.key!,
    params: r.spec.params,
    codeDigest: f.codeDigest,
    runtime: f.fingerprint.runtime,
    ...(r.trace ? { outputs: r.trace.outputs } : {}),
  };
}

/** The config path relative to the project root, as records name it. */
export function configPath(root: string, pipeline: Pipeline): string {
  return relative(root, pipeline.path);
}

/**
 * The provenance handed to `record`'s stage: itself and every stage upstream of it, and the
 * package versions of every stage that produced its inputs.
 */
export function provenanceOf(
  record: StageRecord,
  records: Map<string, StageRecord>,
  config: { path: string; digest: string },
): Provenance {
  const stages: Record<string, StageProvenance> = {};
  const visit = (name: string) => {
    if (stages[name]) return;
    const r = records.get(name)!;
    stages[name] = stageProvenance(r);
    for (const up of Object.values(r.spec.needs).flat()) visit(up);
  };
  for (const up of Object.values(record.spec.needs).flat()) visit(up);
  stages[record.spec.name] = stageProvenance({ ...record, trace: undefined });
  const fp = record.freshness!.fingerprint;
  return {
    config,
    versions: Object.assign(
      { deno: fp.deno },
      ...Object.keys(stages).map((name) => records.get(name)!.freshness?.fingerprint.npm ?? {}),
      fp.npm,
    ),
    stages,
  };
}

/** The lock file of a fully successful run. */
export function lockOf(records: StageRecord[], config: { path: string; digest: string }): LockFile {
  const stages: Record<string, LockedStage> = {};
  for (const r of records) {
    const p = stageProvenance(r);
    stages[r.spec.name] = {
      uses: p.uses,
      key: p.key,
      params: p.params,
      codeDigest: p.codeDigest,
      runtime: p.runtime,
      outputs: p.outputs!,
      metrics: r.trace!.metrics,
    };
  }
  return {
    machine: machineFacts(),
    config: config.path,
    digest: config.digest,
    versions: {
      deno: Deno.version.deno,
      ...unionVersions(records.map((r) => r.freshness!.fingerprint.npm)),
    },
    stages,
  };
}

/**
 * Every stage's npm versions in one map. A package that stages resolve to different versions
 * keeps all of them (`"16.2.2,18.2.0"`), so that one stage compared with the lock is not told
 * that its own version changed.
 */
function unionVersions(maps: Record<string, string>[]): Record<string, string> {
  const versions = new Map<string, Set<string>>();
  for (const map of maps) {
    for (const [pkg, listed] of Object.entries(map)) {
      const set = versions.get(pkg) ?? new Set<string>();
      for (const v of listed.split(",")) set.add(v);
      versions.set(pkg, set);
    }
  }
  return Object.fromEntries([...versions].map(([pkg, set]) => [pkg, [...set].sort().join(",")]));
}

/** The run report derived from the records, in config order. */
export function runReport(
  records: StageRecord[],
  o: { config: string; name: string },
): RunReport {
  const stages = records.map(stageReport);
  const count = (st: StageOutcome) => stages.filter((s) => s.status === st).length;
  return {
    config: o.config,
    name: o.name,
    stages,
    ran: count("ran"),
    cached: count("cached"),
    pulled: count("pulled"),
    failed: count("failed"),
    skipped: count("skipped"),
    interrupted: count("interrupted"),
  };
}
