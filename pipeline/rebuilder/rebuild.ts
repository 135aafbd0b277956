/**
 * The rebuilder: runs a loaded pipeline against the cache. For each stage, in topological
 * order and concurrently where the DAG allows: look it up (`FreshnessLookup`), and only when it
 * is stale hand it to the executor, verify and store its outputs by digest and record a trace
 * and a manifest. Because a stage's key holds the digests of its inputs rather than the keys
 * of its upstream stages, a rerun stage whose outputs come out byte-identical (its kind's
 * volatile outputs aside) leaves its dependants' keys unchanged (early cutoff).
 * Everything known about a stage is kept in one `StageRecord`; the provenance, the lock file
 * (written at the end of a successful run) and the run report are derived from the records.
 * Progress is reported as typed events (`events.ts`); nothing here prints.
 * A stale key is computed holding its lock (`store/key_locks.ts`), so concurrent runs and the
 * experiments of a sweep (`multi.ts`) compute it once and the others take the cached result.
 *
 * @module
 */
import { hostname } from "node:os";
import { dirname, join, relative } from "node:path";
import type { Pipeline, StageSpec } from "../config/config.ts";
import type { RemoteSettings } from "../config/remote.ts";
import type { Cache } from "../store/cache.ts";
import { type Layout, stageLogPath } from "../store/layout.ts";
import { type LockFile, writeLock } from "../store/lockfile.ts";
import { type Manifest, writeManifest } from "../store/manifest.ts";
import type { LocalStore } from "../store/objects.ts";
import { listFiles, pruneStageDirs, publishStageDir } from "../store/publish.ts";
import { openCache } from "./open_cache.ts";
import type { Trace } from "../store/trace.ts";
import { type Hold, schedule } from "../scheduler/dag.ts";
import type { Executor, JobOutcome } from "../scheduler/executor.ts";
import { LocalExecutor } from "../scheduler/local.ts";
import { type ChildSpec, STAGE_MAIN } from "../protocol.ts";
import type { EventSink } from "./events.ts";
import { FreshnessLookup } from "./freshness.ts";
import { stageModules } from "./fingerprint.ts";
import { type ModuleGraphs, moduleGraphs } from "./module_graph.ts";
import { resolveStageGrant } from "../permissions/grant.ts";
import { type SharedRun, sharedRun } from "./shared_run.ts";
import {
  configPath,
  lockOf,
  provenanceOf,
  type RunReport,
  runReport,
  type StageRecord,
} from "./report.ts";

export type { RunReport, StageReport } from "./report.ts";

/** How to run a pipeline. */
export interface RunOptions {
  pipeline: Pipeline;
  layout: Layout;
  /** Outputs are published under `artifacts/out/<publishAs>/`. */
  publishAs: string;
  /** The lock file the stale reasons compare against (the config's or the experiment's). */
  lock?: LockFile;
  /** Lock file to write after a fully successful run; undefined writes none (`check`). */
  writeLockTo?: string;
  /** Cores in use at once: a stage takes as many as its `resources.cpus` (default 1). */
  jobs: number;
  /** Times a failed stage is run again before it counts as failed (default 0). */
  retries?: number;
  /** true: rerun every stage; a stage name: rerun that stage (dependants follow its outputs). */
  force?: boolean | string;
  /** Receives the run's events. */
  onEvent: EventSink;
  /** Aborting (Ctrl-C) stops running stages; nothing partial enters the store. */
  signal: AbortSignal;
  /** Runs stale stages; default: local subprocesses. */
  executor?: Executor;
  /** Re-hash every cached output before trusting it, not only changed ones (`check`). */
  verifyContent?: boolean;
  /** A remote cache: asked on local misses (results pulled), and pushed to when `push`. */
  remote?: RemoteSettings;
  /** Slots and key locks shared with concurrent runs (`runPipelines`); default: this run's own. */
  shared?: SharedRun;
}

/** Runs the pipeline; never throws for stage failures (they are in the report). */
export async function runPipeline(opts: RunOptions): Promise<RunReport> {
  return await new Rebuild(opts).run();
}

/** The scratch dirs of one stage run. */
interface RunDirs {
  root: string;
  out: string;
  tmp: string;
  state: string;
}

class Rebuild {
  readonly #o: RunOptions;
  readonly #store: LocalStore;
  readonly #cache: Cache;
  readonly #graphs: ModuleGraphs;
  readonly #lookup: FreshnessLookup;
  readonly #executor: Executor;
  readonly #records: Map<string, StageRecord>;
  readonly #shared: SharedRun;
  readonly #config: { path: string; digest: string };

  constructor(o: RunOptions) {
    this.#o = o;
    this.#shared = o.shared ?? sharedRun({ layout: o.layout, jobs: o.jobs });
    this.#store = this.#shared.store;
    this.#cache = openCache({
      layout: o.layout,
      store: this.#store,
      remote: o.remote,
      mode: "pull",
      onWarning: (message) => o.onEvent({ type: "warning", message }),
    });
    this.#graphs = moduleGraphs(o.layout.root, o.layout.graphs);
    this.#lookup = new FreshnessLookup({
      cache: this.#cache,
      graphs: this.#graphs,
      lock: o.lock,
      force: o.force,
      verifyContent: o.verifyContent,
    });
    this.#executor = o.executor ?? new LocalExecutor();
    this.#records = new Map(o.pipeline.stages.map((s) => [s.name, { spec: s }]));
    this.#config = { path: configPath(o.layout.root, o.pipeline), digest: o.pipeline.digest };
  }

  async run(): Promise<RunReport> {
    const { pipeline, layout } = this.#o;
    // Every stage needs its code's graph before it can start, and one not kept from an earlier
    // run takes a `deno info` subprocess: ask for them all now, while the first stages run.
    // (A failure is reported by the stage that needs the graph.)
    for (const s of pipeline.stages) this.#graphs.of(stageModules(s)).catch(() => {});
    this.#graphs.of([STAGE_MAIN]).catch(() => {});
    try {
      await schedule(
        pipeline.stages.map((s) => ({
          name: s.name,
          deps: [...new Set(Object.values(s.needs).flat())],
        })),
        (name) => this.#build(this.#records.get(name)!),
        (name, dep) =>
          this.#o.signal.aborted
            ? this.#finish(this.#records.get(name)!, "interrupted", "not started: interrupted")
            : this.#finish(this.#records.get(name)!, "skipped", `upstream ${dep} failed`),
      );
    } finally {
      await this.#cache.flush();
      await this.#graphs.save();
    }
    const records = [...this.#records.values()];
    const report = runReport(records, { config: this.#config.path, name: this.#o.publishAs });
    if (report.failed === 0 && report.skipped === 0 && !this.#o.signal.aborted) {
      report.lock = lockOf(records, this.#config);
      await pruneStageDirs(join(layout.out, this.#o.publishAs), pipeline.stages.map((s) => s.name));
      if (this.#o.writeLockTo) {
        await writeLock(this.#o.writeLockTo, report.lock);
        report.lockPath = this.#o.writeLockTo;
      }
    }
    this.#o.onEvent({ type: "run-finished", report });
    return report;
  }

  /** Builds one stage; true when its outputs are available. */
  async #build(record: StageRecord): Promise<boolean> {
    const stage = record.spec;
    // Stages that become ready together start in config order, however long their lookups take.
    const place = this.#shared.slots.hold(this.#o.pipeline.stages.indexOf(stage));
    try {
      const f = record.freshness = await this.#lookup.lookup(stage);
      if (f.state === "fresh") {
        place.release();
        record.trace = f.trace;
      } else {
        this.#warnBadOutputs(record);
        if (this.#o.signal.aborted) throw new Error("cancelled");
        record.trace = await this.#computeOnce(record, place);
      }
      this.#lookup.settle(stage, record.trace.outputs);
      await publishStageDir(
        this.#store,
        join(this.#o.layout.out, this.#o.publishAs, stage.name),
        record.trace.outputs,
      );
      const done = record.freshness;
      const pulled = done.state === "fresh" &&
        done.notes.some((n) => n.kind === "remote" && n.pulled);
      this.#finish(record, done.state === "fresh" ? (pulled ? "pulled" : "cached") : "ran");
      return true;
    } catch (e) {
      // A stage stopped by Ctrl-C did not fail; say it was interrupted.
      const outcome = this.#o.signal.aborted ? "interrupted" : "failed";
      this.#finish(record, outcome, (e as Error).message);
      return false;
    } finally {
      place.release();
    }
  }

  #finish(record: StageRecord, outcome: StageRecord["outcome"] & string, error?: string): void {
    record.outcome = outcome;
    record.error = error;
    this.#o.onEvent({
      type: "stage-finished",
      stage: record.spec.name,
      uses: record.spec.uses,
      outcome,
      key: record.freshness?.key,
      seconds: outcome === "ran" || outcome === "failed" || outcome === "interrupted"
        ? record.timings?.seconds
        : undefined,
      error,
    });
  }

  /** A cached result whose object went bad is recomputed; say so. */
  #warnBadOutputs(record: StageRecord): void {
    const f = record.freshness!;
    for (const r of f.state === "stale" ? f.reasons : []) {
      if (r.kind !== "output-bad") continue;
      this.#o.onEvent({
        type: "warning",
        stage: record.spec.name,
        message: `${record.spec.name}: cached output ${r.file} (object ${
          r.digest.slice(0, 12)
        }) is ${r.state}; recomputing`,
      });
    }
  }

  /**
   * Computes a stale stage's key holding its lock, unless whoever held the lock before (another
   * run or experiment) stored the result meanwhile: then that result is taken, and said so.
   * `place` is the stage's place in the start order, given up while it waits for the lock.
   */
  async #computeOnce(record: StageRecord, place: Hold): Promise<Trace> {
    const stage = record.spec.name;
    const f = record.freshness!;
    const key = f.key!;
    using _lease = await this.#shared.keys.acquire(key, (w) => {
      place.release();
      this.#o.onEvent({
        type: "warning",
        stage,
        message: `${stage}: waiting for ${
          relative(this.#o.layout.root, w.path)
        }, held by ${w.holder}; will reuse its result`,
      });
    });
    const forced = (this.#o.force === true || this.#o.force === stage) &&
      !this.#shared.computed.has(key);
    const reused = forced ? undefined : await this.#intactTrace(key);
    if (reused) {
      place.release();
      record.freshness = {
        state: "fresh",
        key,
        fingerprint: f.fingerprint,
        codeDigest: f.codeDigest,
        trace: reused,
        notes: [],
      };
      this.#o.onEvent({
        type: "warning",
        stage,
        message: `${stage}: reusing key ${key.slice(0, 12)}, computed meanwhile by another run`,
      });
      return reused;
    }
    try {
      const trace = await this.#shared.slots.with(
        () => this.#execute(record),
        record.spec.resources.cpus ?? 1,
        place,
      );
      this.#shared.computed.add(key);
      return trace;
    } finally {
      await Deno.remove(join(this.#o.layout.tmp, key), { recursive: true }).catch(() => {});
    }
  }

  /**
   * The cached trace of `key` when every object it names is intact; a key computed by a run of
   * this process is taken as it was stored (its objects were hashed as they went in, moments ago,
   * in the same second, in which the memo cannot vouch for them: each would be hashed again).
   */
  async #intactTrace(key: string): Promise<Trace | undefined> {
    const trace = await this.#cache.getTrace(key);
    if (!trace || this.#shared.computed.has(key)) return trace;
    for (const digest of Object.values(trace.outputs)) {
      if (await this.#cache.verify(digest) !== "ok") return undefined;
    }
    return trace;
  }

  /** Runs a stale stage through the executor and stores its outputs; throws on failure. */
  async #execute(record: StageRecord): Promise<Trace> {
    const stage = record.spec;
    const key = record.freshness!.key!;
    const start = new Date();
    const dirs = await this.#makeDirs(stage, key);
    const inputs = await this.#materializeInputs(stage, dirs);
    const logPath = await this.#openLog(stage, key, start);
    this.#o.onEvent({
      type: "stage-started",
      stage: stage.name,
      uses: stage.uses,
      key,
      reasons: record.freshness!.state === "stale" ? record.freshness!.reasons : [],
    });
    const outcome = await this.#runAttempts(record, { dirs, inputs, logPath });
    let trace: Trace | undefined;
    let error = outcome.ok ? undefined : outcome.error;
    if (outcome.ok) {
      try {
        trace = await this.#storeOutputs(record, dirs.out);
        await Deno.remove(dirs.state, { recursive: true });
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const end = new Date();
    record.timings = { start, end, seconds: (end.getTime() - start.getTime()) / 1000 };
    const manifest = await this.#writeManifest(record, { trace, error, logPath });
    if (!trace) throw new Error(error ?? "failed");
    await this.#cache.putTrace(trace, { manifest });
    return trace;
  }

  /** Fresh scratch dirs under `tmp/<key>/`; what is there is debris of a dead lock holder. */
  async #makeDirs(stage: StageSpec, key: string): Promise<RunDirs> {
    const scratch = join(this.#o.layout.tmp, key);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    const root = join(scratch, stage.name);
    const dirs = {
      root,
      out: join(root, "out"),
      tmp: join(root, "tmp"),
      state: join(this.#o.layout.state, key),
    };
    await Promise.all(
      [dirs.out, dirs.tmp, dirs.state].map((d) => Deno.mkdir(d, { recursive: true })),
    );
    return dirs;
  }

  /** Links every upstream output into `in/<input>/<stage>/`. */
  async #materializeInputs(stage: StageSpec, dirs: RunDirs): Promise<ChildSpec["inputs"]> {
    const inputs: ChildSpec["inputs"] = {};
    for (const [name, upstream] of Object.entries(stage.needs)) {
      inputs[name] = [];
      for (const up of upstream) {
        const inDir = join(dirs.root, "in", name, up);
        await Deno.mkdir(inDir, { recursive: true });
        for (const [file, digest] of Object.entries(this.#lookup.known.get(up)?.outputs ?? {})) {
          await this.#cache.materialize(digest, join(inDir, file));
        }
        inputs[name].push({ stage: up, dir: inDir });
      }
    }
    return inputs;
  }

  /** Appends the run's header (with the key) to the stage's log file; returns its path. */
  async #openLog(stage: StageSpec, key: string, start: Date): Promise<string> {
    const logPath = stageLogPath(this.#o.layout, this.#o.publishAs, stage.name);
    await Deno.mkdir(dirname(logPath), { recursive: true });
    await Deno.writeTextFile(
      logPath,
      `--- ${stage.name} (${stage.uses}) key ${key} ${start.toISOString()}\n`,
      { append: true },
    );
    return logPath;
  }

  /** Runs the job, and again up to `retries` times while it fails (not when cancelled). */
  async #runAttempts(
    record: StageRecord,
    o: { dirs: RunDirs; inputs: ChildSpec["inputs"]; logPath: string },
  ): Promise<JobOutcome> {
    const attempts = 1 + (this.#o.retries ?? 0);
    let outcome = await this.#runJob(record, o);
    for (let attempt = 2; !outcome.ok && attempt <= attempts; attempt++) {
      if (this.#o.signal.aborted) break;
      const name = record.spec.name;
      this.#o.onEvent({
        type: "warning",
        stage: name,
        message: `${name}: attempt ${attempt - 1} of ${attempts} failed (${
          outcome.error.split("\n")[0]
        }); retrying`,
      });
      // A fresh out dir; the state dir stays, so a stage that checkpoints resumes.
      await Deno.remove(o.dirs.out, { recursive: true });
      await Deno.mkdir(o.dirs.out, { recursive: true });
      await Deno.writeTextFile(o.logPath, `--- ${name} attempt ${attempt} of ${attempts}\n`, {
        append: true,
      });
      outcome = await this.#runJob(record, o);
    }
    return outcome;
  }

  async #runJob(
    record: StageRecord,
    o: { dirs: RunDirs; inputs: ChildSpec["inputs"]; logPath: string },
  ): Promise<JobOutcome> {
    const stage = record.spec;
    const f = record.freshness!;
    const permissions = stage.kind.permissions?.(stage.params, f.fingerprint.runtime) ?? {};
    let grant;
    try {
      grant = await resolveStageGrant(stage.name, {
        root: this.#o.layout.root,
        fingerprint: f.fingerprint,
        declared: permissions,
        wasmCompilation: stage.kind.wasmCompilation,
        allow: stage.allow,
        graphs: this.#graphs,
        inputs: Object.values(o.inputs).flat().map((i) => i.dir),
        outDir: o.dirs.out,
        stateDir: o.dirs.state,
        tmpDir: o.dirs.tmp,
      });
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    return await this.#executor.run({
      stage: stage.name,
      uses: stage.uses,
      key: f.key!,
      spec: {
        stage: stage.name,
        runModule: join(stage.kindDir, "run.ts"),
        params: stage.params,
        runtime: f.fingerprint.runtime,
        inputs: o.inputs,
        outDir: o.dirs.out,
        stateDir: o.dirs.state,
        provenance: provenanceOf(record, this.#records, this.#config),
      },
      permissions,
      grant,
      root: this.#o.layout.root,
      tmpDir: o.dirs.tmp,
      logPath: o.logPath,
      resources: stage.resources,
    }, {
      onProgress: (progress) =>
        this.#o.onEvent({ type: "stage-progress", stage: stage.name, progress }),
      onLog: (line) => this.#o.onEvent({ type: "stage-log", stage: stage.name, line }),
      signal: this.#o.signal,
    });
  }

  /** Checks the declared outputs and moves them into the cache; returns their trace. */
  async #storeOutputs(record: StageRecord, outDir: string): Promise<Trace> {
    const stage = record.spec;
    const declared = stage.kind.outputs(stage.params);
    const written = new Set(await listFiles(outDir) ?? []);
    const missing = declared.filter((f) => !written.has(f));
    if (missing.length) {
      throw new Error(
        `stage finished without writing declared output(s) ${missing.join(", ")} into ctx.outDir`,
      );
    }
    const extra = [...written].filter((f) => !declared.includes(f));
    if (extra.length) {
      this.#o.onEvent({
        type: "warning",
        stage: stage.name,
        message: `${stage.name}: ignoring undeclared output(s) ${extra.join(", ")}`,
      });
    }
    const metrics = declared.includes("metrics.json")
      ? await readMetrics(join(outDir, "metrics.json"))
      : undefined;
    const outputs: Record<string, string> = {};
    for (const file of declared) outputs[file] = await this.#cache.putObject(join(outDir, file));
    const f = record.freshness!;
    return { key: f.key!, fingerprint: f.fingerprint, outputs, metrics };
  }

  async #writeManifest(
    record: StageRecord,
    o: { trace?: Trace; error?: string; logPath: string },
  ): Promise<Manifest> {
    const { layout } = this.#o;
    const f = record.freshness!;
    const t = record.timings!;
    const manifest: Manifest = {
      status: o.trace ? "ok" : "failed",
      config: this.#config.path,
      name: this.#o.publishAs,
      stage: record.spec.name,
      key: f.key!,
      params: record.spec.params,
      fingerprint: f.fingerprint,
      codeDigest: f.codeDigest,
      outputs: o.trace?.outputs ?? {},
      error: o.error,
      start: t.start.toISOString(),
      end: t.end.toISOString(),
      wallSeconds: t.seconds,
      cores: navigator.hardwareConcurrency,
      host: hostname(),
      log: relative(layout.root, o.logPath),
    };
    await writeManifest(layout.runs, manifest);
    return manifest;
  }
}

/** The parsed `metrics.json` a stage wrote. */
async function readMetrics(path: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`metrics.json is not valid JSON: ${(e as Error).message}`);
  }
}
