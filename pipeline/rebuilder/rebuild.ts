/**
 * The rebuilder: runs a loaded pipeline against the cache. For each stage, in topological
 * order and concurrently where the DAG allows: gather its fingerprint, look the key up in the
 * traces, verify the cached objects, and only on a miss run the stage in a subprocess, store
 * its outputs by digest and record a trace and a manifest. Because a stage's key holds the
 * digests of its inputs rather than the keys of its upstream stages, a rerun stage whose
 * outputs come out byte-identical (its kind's volatile outputs aside) leaves its dependants'
 * keys unchanged (early cutoff).
 * At the end of a successful run the config's lock file is written.
 *
 * @module
 */
import { hostname } from "node:os";
import { join, relative } from "node:path";
import type { Pipeline, StageSpec } from "../config/config.ts";
import { codeDigest, type Fingerprint } from "./fingerprint.ts";
import { FreshnessLookup } from "./freshness.ts";
import { ModuleGraphs } from "./module_graph.ts";
import { type LockedStage, type LockFile, readLock, writeLock } from "../store/lockfile.ts";
import { LocalCache } from "../store/cache.ts";
import { writeManifest } from "../store/manifest.ts";
import type { Layout } from "../store/layout.ts";
import { listFiles, pruneStageDirs, publishStageDir } from "../store/publish.ts";
import { runStage } from "../scheduler/local.ts";
import { schedule, Semaphore } from "../scheduler/dag.ts";
import type { Provenance, StageProvenance } from "../stage_kind.ts";
import { LocalStore } from "../store/objects.ts";
import { type Trace, writeTrace } from "../store/trace.ts";
import type { View } from "../cli/view.ts";

/** How to run a pipeline. */
export interface RunOptions {
  pipeline: Pipeline;
  layout: Layout;
  /** Outputs are published under `artifacts/out/<publishAs>/`. */
  publishAs: string;
  /** Lock file to write after a fully successful run; undefined writes none (`check`). */
  lockPath?: string;
  /** Stage subprocesses at once. */
  jobs: number;
  /** true: rerun every stage; a stage name: rerun that stage (dependants follow its outputs). */
  force?: boolean | string;
  view: View;
  /** Aborting (Ctrl-C) kills running stages; nothing partial enters the store. */
  signal: AbortSignal;
}

/** How one stage ended. */
export interface StageReport {
  stage: string;
  uses: string;
  status: "ran" | "cached" | "failed" | "skipped";
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
  failed: number;
  skipped: number;
  /** The lock content when the run succeeded. */
  lock?: LockFile;
  /** Path of the lock file written (or unchanged) by this run. */
  lockPath?: string;
}

/** Runs the pipeline; never throws for stage failures (they are in the report). */
export async function runPipeline(opts: RunOptions): Promise<RunReport> {
  const run = new Rebuild(opts);
  return await run.execute();
}

class Rebuild {
  #o: RunOptions;
  #store: LocalStore;
  #graphs: ModuleGraphs;
  #lookup!: FreshnessLookup;
  #prov = new Map<string, StageProvenance>();
  #reports = new Map<string, StageReport>();
  /** Resolved npm versions of each stage's import graph, by stage name. */
  #npm = new Map<string, Record<string, string>>();
  #slots: Semaphore;
  #runDir: string;
  #byName: Map<string, StageSpec>;

  constructor(o: RunOptions) {
    this.#o = o;
    this.#store = new LocalStore(o.layout.objects);
    this.#graphs = new ModuleGraphs(o.layout.root, o.layout.graphs);
    this.#slots = new Semaphore(o.jobs);
    this.#runDir = join(o.layout.tmp, `${Date.now()}-${Deno.pid}`);
    this.#byName = new Map(o.pipeline.stages.map((s) => [s.name, s]));
  }

  async execute(): Promise<RunReport> {
    const { pipeline, layout, view } = this.#o;
    // We hold the repo lock, so anything left in tmp/ is debris of an interrupted run.
    await Deno.remove(layout.tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(this.#runDir, { recursive: true });
    this.#lookup = new FreshnessLookup({
      cache: new LocalCache(layout.cache, this.#store),
      graphs: this.#graphs,
      lock: this.#o.lockPath ? await readLock(this.#o.lockPath) : undefined,
      force: this.#o.force,
    });
    try {
      await schedule(
        pipeline.stages.map((s) => ({
          name: s.name,
          deps: [...new Set(Object.values(s.needs).flat())],
        })),
        (name) => this.#build(this.#byName.get(name)!),
        (name, dep) => {
          this.#reports.set(
            name,
            this.#report(name, "skipped", { error: `upstream ${dep} failed` }),
          );
          view.state(name, "skipped", `upstream ${dep} failed`);
        },
      );
    } finally {
      await this.#store.flush();
      await this.#graphs.save();
      await Deno.remove(this.#runDir, { recursive: true }).catch(() => {});
    }
    const stages = pipeline.stages.map((s) => this.#reports.get(s.name)!);
    const count = (st: StageReport["status"]) => stages.filter((s) => s.status === st).length;
    const report: RunReport = {
      config: relative(layout.root, pipeline.path),
      name: this.#o.publishAs,
      stages,
      ran: count("ran"),
      cached: count("cached"),
      failed: count("failed"),
      skipped: count("skipped"),
    };
    if (report.failed === 0 && report.skipped === 0 && !this.#o.signal.aborted) {
      report.lock = this.#lock();
      await pruneStageDirs(join(layout.out, this.#o.publishAs), pipeline.stages.map((s) => s.name));
      if (this.#o.lockPath) {
        await writeLock(this.#o.lockPath, report.lock);
        report.lockPath = this.#o.lockPath;
      }
    }
    return report;
  }

  #report(name: string, status: StageReport["status"], extra: Partial<StageReport> = {}) {
    return { stage: name, uses: this.#byName.get(name)!.uses, status, ...extra };
  }

  /** Builds one stage; true when its outputs are available. */
  async #build(stage: StageSpec): Promise<boolean> {
    const { view } = this.#o;
    let key: string | undefined;
    try {
      const f = await this.#lookup.lookup(stage);
      const fp = f.fingerprint;
      const k = key = f.key!;
      this.#npm.set(stage.name, fp.npm);
      let trace = f.state === "fresh" ? f.trace : undefined;
      for (const r of f.state === "stale" ? f.reasons : []) {
        if (r.kind !== "output-bad") continue;
        view.warn(
          `${stage.name}: cached output ${r.file} (object ${
            r.digest.slice(0, 12)
          }) is ${r.state}; recomputing`,
        );
      }
      let seconds: number | undefined;
      const status = trace ? "cached" : "ran";
      if (!trace) {
        if (this.#o.signal.aborted) throw new Error("cancelled");
        const t0 = performance.now();
        trace = await this.#slots.with(() => this.#execute(stage, fp, k));
        seconds = (performance.now() - t0) / 1000;
      }
      this.#lookup.settle(stage, trace.outputs);
      this.#prov.set(stage.name, {
        uses: stage.uses,
        key,
        params: stage.params,
        codeDigest: codeDigest(fp.code),
        runtime: fp.runtime,
        outputs: trace.outputs,
      });
      await publishStageDir(
        this.#store,
        join(this.#o.layout.out, this.#o.publishAs, stage.name),
        trace.outputs,
      );
      this.#reports.set(
        stage.name,
        this.#report(stage.name, status, {
          key,
          outputs: trace.outputs,
          metrics: trace.metrics,
          seconds,
        }),
      );
      view.state(stage.name, status, seconds === undefined ? undefined : `${seconds.toFixed(1)}s`);
      return true;
    } catch (e) {
      const error = (e as Error).message;
      this.#reports.set(stage.name, this.#report(stage.name, "failed", { key, error }));
      view.state(stage.name, "failed", error.split("\n")[0]);
      return false;
    }
  }

  /** Runs the stage subprocess and stores its outputs; throws with the reason on failure. */
  async #execute(stage: StageSpec, fp: Fingerprint, key: string): Promise<Trace> {
    const { layout, view } = this.#o;
    const dir = join(this.#runDir, stage.name);
    const outDir = join(dir, "out");
    const tmpDir = join(dir, "tmp");
    const stateDir = join(layout.state, key);
    await Promise.all(
      [outDir, tmpDir, stateDir, layout.logs].map((d) => Deno.mkdir(d, { recursive: true })),
    );
    const inputs: Record<string, { stage: string; dir: string }[]> = {};
    for (const [name, upstream] of Object.entries(stage.needs)) {
      inputs[name] = [];
      for (const up of upstream) {
        const inDir = join(dir, "in", name, up);
        await Deno.mkdir(inDir, { recursive: true });
        for (const [file, digest] of Object.entries(this.#lookup.known.get(up)?.outputs ?? {})) {
          await this.#store.materialize(digest, join(inDir, file));
        }
        inputs[name].push({ stage: up, dir: inDir });
      }
    }
    const logPath = join(layout.logs, `${key}.log`);
    const start = new Date();
    await Deno.writeTextFile(
      logPath,
      `--- ${stage.name} (${stage.uses}) ${start.toISOString()}\n`,
      { append: true },
    );
    view.state(stage.name, "running");
    const outcome = await runStage({
      spec: {
        stage: stage.name,
        runModule: join(stage.kindDir, "run.ts"),
        params: stage.params,
        runtime: fp.runtime,
        inputs,
        outDir,
        stateDir,
        provenance: this.#provenance(stage, key, fp),
      },
      permissions: stage.kind.permissions?.(stage.params) ?? {},
      root: layout.root,
      tmpDir,
      logPath,
      onProgress: (p) => view.progress(stage.name, p),
      onLog: (line) => view.log(stage.name, line),
      signal: this.#o.signal,
    });
    let trace: Trace | undefined;
    let error = outcome.ok ? undefined : outcome.error;
    if (outcome.ok) {
      try {
        trace = await this.#storeOutputs(stage, key, fp, outDir);
        await Deno.remove(stateDir, { recursive: true });
      } catch (e) {
        error = (e as Error).message;
      }
    }
    const end = new Date();
    await writeManifest(layout.runs, {
      status: trace ? "ok" : "failed",
      config: relative(layout.root, this.#o.pipeline.path),
      name: this.#o.publishAs,
      stage: stage.name,
      key,
      params: stage.params,
      fingerprint: fp,
      codeDigest: codeDigest(fp.code),
      outputs: trace?.outputs ?? {},
      error,
      start: start.toISOString(),
      end: end.toISOString(),
      wallSeconds: (end.getTime() - start.getTime()) / 1000,
      cores: navigator.hardwareConcurrency,
      host: hostname(),
      log: relative(layout.root, logPath),
    });
    if (!trace) throw new Error(error ?? "failed");
    return trace;
  }

  /** Checks the declared outputs, moves them into the store and records the trace. */
  async #storeOutputs(
    stage: StageSpec,
    key: string,
    fp: Fingerprint,
    outDir: string,
  ): Promise<Trace> {
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
      this.#o.view.warn(`${stage.name}: ignoring undeclared output(s) ${extra.join(", ")}`);
    }
    let metrics: unknown;
    if (declared.includes("metrics.json")) {
      const text = await Deno.readTextFile(join(outDir, "metrics.json"));
      try {
        metrics = JSON.parse(text);
      } catch (e) {
        throw new Error(`metrics.json is not valid JSON: ${(e as Error).message}`);
      }
    }
    const outputs: Record<string, string> = {};
    for (const file of declared) outputs[file] = await this.#store.put(join(outDir, file));
    const trace: Trace = { key, fingerprint: fp, outputs, metrics };
    await writeTrace(this.#o.layout.cache, trace);
    return trace;
  }

  /** This stage and every stage upstream of it, as handed to `ctx.provenance`. */
  #provenance(stage: StageSpec, key: string, fp: Fingerprint): Provenance {
    const stages: Record<string, StageProvenance> = {};
    const visit = (name: string) => {
      if (stages[name]) return;
      stages[name] = this.#prov.get(name)!;
      for (const up of Object.values(this.#byName.get(name)!.needs).flat()) visit(up);
    };
    for (const up of Object.values(stage.needs).flat()) visit(up);
    stages[stage.name] = {
      uses: stage.uses,
      key,
      params: stage.params,
      codeDigest: codeDigest(fp.code),
      runtime: fp.runtime,
    };
    return {
      config: {
        path: relative(this.#o.layout.root, this.#o.pipeline.path),
        digest: this.#o.pipeline.digest,
      },
      // The packages of every stage that produced these inputs (e.g. tfjs of the trainings).
      versions: Object.assign(
        { deno: fp.deno },
        ...Object.keys(stages).map((name) => this.#npm.get(name) ?? {}),
        fp.npm,
      ),
      stages,
    };
  }

  #lock(): LockFile {
    const stages: Record<string, LockedStage> = {};
    for (const s of this.#o.pipeline.stages) {
      const p = this.#prov.get(s.name)!;
      const r = this.#reports.get(s.name)!;
      stages[s.name] = {
        uses: p.uses,
        key: p.key,
        params: p.params,
        codeDigest: p.codeDigest,
        runtime: p.runtime,
        outputs: p.outputs!,
        metrics: r.metrics,
      };
    }
    return {
      config: relative(this.#o.layout.root, this.#o.pipeline.path),
      digest: this.#o.pipeline.digest,
      versions: Object.assign({ deno: Deno.version.deno }, ...this.#npm.values()),
      stages,
    };
  }
}
