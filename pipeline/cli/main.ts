/**
 * The `pipeline` command (`deno task pipeline …`): run, reproduce, status, dag, params/metrics
 * diff, experiments, gc and check. Exit codes: 0 ok, 1 a stage failed or metrics drifted,
 * 2 bad usage or config, 130 interrupted.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadPipeline, type Pipeline } from "../config/config.ts";
import { toDot, toMermaid } from "./dag_text.ts";
import { diffTable } from "./diff_table.ts";
import { changedOutputs, DEFAULT_TOLERANCE, metricDrifts } from "../store/lock_drift.ts";
import { runPipeline, type RunReport } from "../rebuilder/rebuild.ts";
import {
  checkExperimentName,
  experimentPaths,
  findConfig,
  listExperiments,
  projectRelative,
  resolveTarget,
  saveExperiment,
} from "../config/experiments.ts";
import { collectGarbage } from "../store/gc.ts";
import { type LockFile, lockPathFor, readLock } from "../store/lockfile.ts";
import { type Layout, layout as layoutOf, projectRoot } from "../store/layout.ts";
import { planPipeline } from "../rebuilder/plan.ts";
import { planJson, planText } from "./plan_view.ts";
import { acquireRepoLock, describeHolder } from "../store/repo_lock.ts";
import { LocalStore } from "../store/objects.ts";
import { UsageError } from "../config/usage_error.ts";
import { createView, viewSink } from "./view.ts";

const DEFAULT_CONFIG = "configs/paper.yaml";

/** Options shared by commands that execute a pipeline. */
interface ExecOptions {
  force?: boolean | string;
  dryRun?: boolean;
  jobs: number;
  set: string[];
  json?: boolean;
}

function layoutFrom(cmd: Command): Layout {
  return layoutOf(projectRoot(cmd.optsWithGlobals().root));
}

/** `run --force configs/x.yaml` would take the config for a stage name: say so. */
function checkForceArg(force: ExecOptions["force"]): void {
  if (typeof force === "string" && /\.ya?ml$/.test(force)) {
    throw new UsageError(
      `--force takes a stage name, not ${force}; to force every stage write \`run CONFIG --force\``,
    );
  }
}

async function load(layout: Layout, config: string, sets: string[]): Promise<Pipeline> {
  const path = await findConfig(layout, config);
  if (!path) {
    throw new UsageError(`config file not found: ${config} (looked in . and ${layout.root})`);
  }
  return await loadPipeline(path, { sets, stagesRoot: layout.stages });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("expected a number ≥ 0, e.g. 1e-6");
  }
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the options of commands that execute a pipeline (`--dry-run` unless `dryRun` is false). */
function execOptions(cmd: Command, dryRun = true): Command {
  cmd.option("--force [stage]", "rerun every stage, or only STAGE (dependants follow its outputs)");
  if (dryRun) cmd.option("--dry-run", "show what would run and why, run nothing");
  return cmd
    .option(
      "-j, --jobs <n>",
      "stage subprocesses at once",
      positiveInt,
      navigator.hardwareConcurrency,
    )
    .option(
      "--set <key=value>",
      "override a config value, e.g. stages.train.with.steps=3 (repeatable)",
      collect,
      [],
    )
    .option("--json", "print a machine-readable run report on stdout");
}

/** The final summary line of every run. */
function summaryLine(r: Pick<RunReport, "ran" | "cached" | "failed">): string {
  return `stages: ${r.ran} ran, ${r.cached} cached, ${r.failed} failed`;
}

/** Plans (dry run) or runs `pipeline`; returns the report (undefined for a dry run) and exit code. */
async function execute(
  layout: Layout,
  pipeline: Pipeline,
  publishAs: string,
  lockPath: string,
  writeLockFile: boolean,
  opts: ExecOptions,
): Promise<{ report?: RunReport; code: number }> {
  const names = pipeline.stages.map((s) => s.name);
  if (typeof opts.force === "string" && !names.includes(opts.force)) {
    throw new UsageError(
      `--force ${opts.force}: no such stage in ${pipeline.path} (stages: ${names.join(", ")})`,
    );
  }
  if (opts.dryRun) {
    const plans = await planPipeline({
      pipeline,
      layout,
      lock: await readLock(lockPath),
      force: opts.force,
    });
    for (const line of planText(plans, "dry-run")) console.log(line);
    const stale = plans.filter((p) => p.freshness.state === "stale").length;
    console.log(
      `stages: 0 ran, ${plans.length - stale} cached, 0 failed (dry run: ${stale} would run)`,
    );
    return { code: 0 };
  }
  const command = `pipeline ${Deno.args.join(" ")}`;
  using _lock = await acquireRepoLock(layout.artifacts, command, (holder) => {
    console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(holder)}`);
  });
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) Deno.exit(130);
    console.error("interrupted: stopping running stages (Ctrl-C again to quit at once)");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onInterrupt);
  const view = createView(pipeline.stages.map((s) => s.name));
  let report: RunReport;
  try {
    report = await runPipeline({
      pipeline,
      layout,
      publishAs,
      lock: await readLock(lockPath),
      writeLockTo: writeLockFile ? lockPath : undefined,
      jobs: opts.jobs,
      force: opts.force,
      onEvent: viewSink(view),
      signal: controller.signal,
    });
  } finally {
    view.close();
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onInterrupt);
  }
  for (const s of report.stages.filter((s) => s.status === "failed")) {
    const log = s.key ? ` (log: ${projectRelative(layout, `${layout.logs}/${s.key}.log`)})` : "";
    const lines = (s.error ?? "").split("\n");
    const shown = lines.length > 6
      ? [...lines.slice(0, 6), `    … ${lines.length - 6} more lines`]
      : lines;
    console.error(`failed: ${s.stage}: ${shown.join("\n")}${log}`);
    const denied = /NotCapable: Requires (\w+) access/.exec(s.error ?? "")?.[1];
    if (denied) {
      const want = denied === "read" ? "read: [path]" : `${denied}: true`;
      console.error(
        `hint: stages run with only the permissions their kind declares; add { ${want} } to ` +
          `permissions() in stages/${s.uses}/kind.ts`,
      );
    }
  }
  const skipped = report.stages.filter((s) => s.status === "skipped").map((s) => s.stage);
  if (skipped.length) {
    console.error(`not run because an upstream stage failed: ${skipped.join(", ")}`);
  }
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  const line = summaryLine(report);
  if (opts.json) console.error(line);
  else console.log(line);
  const code = controller.signal.aborted ? 130 : report.failed + report.skipped > 0 ? 1 : 0;
  return { report, code };
}

function program(): Command {
  const root = new Command("pipeline")
    .description("Run YAML-declared stage pipelines with a content-addressed cache.")
    .option("--root <dir>", "project root (default: this checkout, or $PIPELINE_ROOT)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      `\nExamples:\n  deno task pipeline run configs/smoke.yaml\n  deno task pipeline status\n` +
        `  deno task pipeline exp run k20 --set stages.train_llgae.with.components=20\n` +
        `  deno task pipeline metrics diff configs/paper.yaml k20`,
    );

  execOptions(
    root.command("run")
      .description("run a config: only stages whose inputs, params, code or runtime changed")
      .argument("[config]", "config file", DEFAULT_CONFIG),
  ).action(async (config: string, opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const p = await load(layout, config, opts.set);
    const { code } = await execute(layout, p, p.name, lockPathFor(p.path), true, opts);
    Deno.exitCode = code;
  });

  execOptions(
    root.command("reproduce").description(`run ${DEFAULT_CONFIG} (the paper's results)`),
  ).action(async (opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const p = await load(layout, DEFAULT_CONFIG, opts.set);
    Deno.exitCode = (await execute(layout, p, p.name, lockPathFor(p.path), true, opts)).code;
  });

  root.command("status")
    .description("say for each stage whether it is up to date or stale, and exactly why")
    .argument("[config]", "config file or experiment name", DEFAULT_CONFIG)
    .option("--set <key=value>", "as for run (repeatable)", collect, [])
    .option("--json", "print the verdicts and typed reasons as JSON on stdout")
    .action(async (config: string, opts: { set: string[]; json?: boolean }, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const target = await resolveTarget(layout, config);
      const p = await loadPipeline(target.config, {
        sets: [...target.sets, ...opts.set],
        stagesRoot: layout.stages,
      });
      const plans = await planPipeline({ pipeline: p, layout, lock: await readLock(target.lock) });
      if (opts.json) {
        console.log(JSON.stringify(planJson(plans, projectRelative(layout, p.path)), null, 2));
        return;
      }
      for (const line of planText(plans, "status")) console.log(line);
      const stale = plans.filter((x) => x.freshness.state === "stale").length;
      console.log(`${plans.length - stale} up to date, ${stale} stale`);
    });

  root.command("dag")
    .description("print the stage graph as Mermaid or Graphviz DOT text")
    .argument("[config]", "config file", DEFAULT_CONFIG)
    .option("--format <format>", "mermaid or dot", "mermaid")
    .action(async (config: string, opts: { format: string }, cmd: Command) => {
      if (opts.format !== "mermaid" && opts.format !== "dot") {
        throw new UsageError(`--format must be mermaid or dot, not ${opts.format}`);
      }
      const p = await load(layoutFrom(cmd), config, []);
      Deno.stdout.writeSync(
        new TextEncoder().encode(opts.format === "dot" ? toDot(p) : toMermaid(p)),
      );
    });

  const diffHelp = "A and B are config files or experiment names";
  const params = root.command("params").description("compare params");
  params.command("diff")
    .description(`table of the stage params that differ between A and B (${diffHelp})`)
    .argument("<a>").argument("<b>")
    .action(async (a: string, b: string, _opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const values = await Promise.all([a, b].map(async (arg) => {
        const t = await resolveTarget(layout, arg);
        const p = await loadPipeline(t.config, { sets: t.sets, stagesRoot: layout.stages });
        return Object.fromEntries(p.stages.map((s) => [s.name, s.params]));
      }));
      console.log(diffTable(values[0], values[1], [a, b]));
    });

  const metrics = root.command("metrics").description("compare metrics");
  metrics.command("diff")
    .description(
      `table of the metrics.json values that differ between the last runs of A and B (${diffHelp})`,
    )
    .argument("<a>").argument("<b>")
    .action(async (a: string, b: string, _opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const values = await Promise.all([a, b].map(async (arg) => {
        const t = await resolveTarget(layout, arg);
        const lock = await readLock(t.lock);
        if (!lock) throw new UsageError(`${arg} has no results yet (no ${t.lock}); run it first`);
        return metricsOf(lock);
      }));
      console.log(diffTable(values[0], values[1], [a, b]));
    });

  const exp = root.command("exp").description(
    "named experiments: config variants kept side by side",
  );
  execOptions(
    exp.command("run")
      .description(
        "run a config with --set overrides as experiment NAME (outputs in artifacts/out/NAME)",
      )
      .argument("<name>", "experiment name, e.g. k20")
      .argument("[config]", "base config file", DEFAULT_CONFIG),
  ).action(async (name: string, config: string, opts: ExecOptions, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    await checkExperimentName(layout, name);
    const p = await load(layout, config, opts.set);
    if (!opts.dryRun) {
      await saveExperiment(layout, {
        name,
        config: projectRelative(layout, p.path),
        sets: opts.set,
        created: new Date().toISOString(),
      });
    }
    const lock = experimentPaths(layout, name).lock;
    Deno.exitCode = (await execute(layout, p, name, lock, true, opts)).code;
  });
  exp.command("list")
    .description("list experiments with their base config and overrides")
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      const exps = await listExperiments(layout);
      if (!exps.length) console.log("no experiments (create one with `exp run NAME --set …`)");
      for (const e of exps) {
        const done = await readLock(experimentPaths(layout, e.name).lock)
          ? ""
          : "  (no complete run)";
        console.log(
          `${e.name}  ${e.config}  ${e.sets.join(" ") || "(no overrides)"}  ${e.created}${done}`,
        );
      }
    });

  root.command("gc")
    .description("remove cached objects that no lock file (config or experiment) references")
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = layoutFrom(cmd);
      using _lock = await acquireRepoLock(layout.artifacts, "pipeline gc", (h) => {
        console.error(`waiting for ${layout.artifacts}/lock, held by ${describeHolder(h)}`);
      });
      const r = await collectGarbage(layout, new LocalStore(layout.objects));
      console.log(
        `gc: removed ${r.objects} objects, ${r.traces} traces` +
          (r.outDirs.length ? `, out dirs ${r.outDirs.join(", ")}` : "") +
          `; freed ${
            (r.bytes / 1e6).toFixed(1)
          } MB (${r.bytes} bytes); kept what ${r.locks.length} lock files reference`,
      );
    });

  execOptions(
    root.command("check")
      .description(
        "regenerate a config and compare its metrics with its committed lock file " +
          "(cached stages count as regenerated; add --force to recompute every stage)",
      )
      .argument("[config]", "config file", DEFAULT_CONFIG)
      .option(
        "--tolerance <rel>",
        "allowed relative difference |a-b|/max(|a|,|b|) per number (timing keys are skipped)",
        nonNegative,
        DEFAULT_TOLERANCE,
      ),
    false,
  ).action(async (config: string, opts: ExecOptions & { tolerance: number }, cmd: Command) => {
    checkForceArg(opts.force);
    const layout = layoutFrom(cmd);
    const p = await load(layout, config, opts.set);
    const lockPath = lockPathFor(p.path);
    const locked = await readLock(lockPath);
    if (!locked) {
      throw new UsageError(
        `no lock file ${lockPath}: run \`pipeline run ${config}\` and commit it`,
      );
    }
    const { report, code } = await execute(layout, p, p.name, lockPath, false, opts);
    if (code !== 0 || !report?.lock) {
      Deno.exitCode = code || 1;
      return;
    }
    const drifts = metricDrifts(locked, report.lock, opts.tolerance);
    const bytes = changedOutputs(locked, report.lock);
    if (bytes.length) {
      console.log(`note: output bytes differ from the lock for: ${bytes.join(", ")}`);
    }
    if (drifts.length) {
      console.log(diffTable(
        Object.fromEntries(drifts.map((d) => [d.key, d.locked])),
        Object.fromEntries(drifts.map((d) => [d.key, d.now])),
        ["locked", "now"],
      ));
      console.log(
        `check: ${drifts.length} metric(s) drifted beyond relative tolerance ${opts.tolerance}`,
      );
      Deno.exitCode = 1;
    } else {
      console.log(
        `check: metrics match ${
          projectRelative(layout, lockPath)
        } within relative tolerance ${opts.tolerance}`,
      );
    }
  });

  return root;
}

/** `{stage: metrics}` for every stage of a lock that recorded metrics. */
function metricsOf(lock: LockFile): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(lock.stages).filter(([, s]) => s.metrics !== undefined).map((
      [n, s],
    ) => [n, s.metrics]),
  );
}

if (import.meta.main) {
  try {
    await program().parseAsync(Deno.args, { from: "user" });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      Deno.exitCode = 2;
    } else {
      console.error(`error: ${(e as Error).message ?? e}`);
      Deno.exitCode = 1;
    }
  }
}
