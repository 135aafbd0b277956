/**
 * Command-line conventions on a fixture project (the real CLI as a subprocess): `repro`, `-S`,
 * `-n`, experiment names for `run`/`dag`/`check`, "did you mean", one-line usage errors, and
 * `--help` examples that work as printed.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";

Deno.test("cli: repro is run, -S is --set and -n is --dry-run", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const dry = await p.cli("repro", CONFIG, "-n", "-S", "stages.mb.with.scale=4");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: 6 would run/);
    assert.equal(
      await Deno.stat(p.path("configs/six.lock.json")).catch(() => undefined),
      undefined,
    );
    const run = await p.cli("repro", CONFIG, "-S", "stages.mb.with.scale=4");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.summary, { ran: 6, cached: 0, failed: 0 });
    const lock = JSON.parse(await p.read("configs/six.lock.json"));
    assert.equal(lock.stages.mb.params.scale, 4);
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: run, dag and check accept an experiment name", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const exp = await p.cli("exp", "run", "s4", CONFIG, "-S", "stages.mb.with.scale=4");
    assert.equal(exp.code, 0, exp.stderr);
    const again = await p.cli("run", "s4");
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.summary, { ran: 0, cached: 6, failed: 0 });
    const dag = await p.cli("dag", "s4", "--format", "ascii");
    assert.equal(dag.code, 0, dag.stderr);
    assert.match(dag.stdout, /^\[j\] \(eng_join\) +<- parts: ma, mb$/m);
    const check = await p.cli("check", "s4");
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /check: metrics match/);
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: dag draws ASCII ranks on request and stays Mermaid when piped", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const piped = await p.cli("dag", CONFIG);
    assert.match(piped.stdout, /^flowchart LR$/m);
    const ascii = await p.cli("dag", CONFIG, "--format", "ascii");
    const lines = ascii.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.filter((l) => l.startsWith("[")).map((l) => l.split(" ")[0]), [
      "[a]",
      "[b]",
      "[ma]",
      "[mb]",
      "[j]",
      "[final]",
    ]);
    assert.match(ascii.stdout, /^\[final\] \(eng_map\) +<- data: j$/m);
    const bad = await p.cli("dag", CONFIG, "--format", "png");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be ascii, mermaid or dot, not png/);
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: a config name that does not exist suggests the closest and lists the configs", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES, "smoke.yaml": SIX_STAGES });
  try {
    for (const cmd of [["run"], ["dag"], ["check"], ["status"], ["exp", "run", "x"]]) {
      const r = await p.cli(...cmd, "configs/smok.yaml");
      assert.equal(r.code, 2, `${cmd.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /did you mean configs\/smoke\.yaml\?/, cmd.join(" "));
      assert.match(r.stderr, /configs: configs\/six\.yaml, configs\/smoke\.yaml/, cmd.join(" "));
    }
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: a usage error prints one error line and the --help hint, not the whole help", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    for (const args of [["run", "--bogus"], ["frobnicate"], ["run", CONFIG, "--jobs", "0"]]) {
      const r = await p.cli(...args);
      assert.equal(r.code, 2, args.join(" "));
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0], /^error: /);
      assert.equal(lines[1], "(run `bin/pipeline --help` for usage)");
    }
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: --help examples use bin/pipeline and name only stages the paper config has", async () => {
  const p = await TestProject.create({});
  try {
    const help = await p.cli("--help");
    assert.equal(help.code, 0);
    const examples = help.stdout.split("Examples:")[1].trim().split("\n").map((l) => l.trim());
    assert.ok(examples.length >= 3);
    for (const e of examples) assert.match(e, /^bin\/pipeline /);
    const paper = parse(await Deno.readTextFile(new URL("../configs/paper.yaml", import.meta.url)));
    const named = [...help.stdout.matchAll(/stages\.(\w+)\./g)].map((m) => m[1]);
    assert.ok(named.length > 0);
    for (const stage of named) assert.ok(stage in paper.stages, `no stage ${stage} in paper.yaml`);
    for (const cmd of ["run", "status", "exp"]) {
      const sub = await p.cli(cmd, "--help");
      for (const m of sub.stdout.matchAll(/stages\.(\w+)\./g)) {
        assert.ok(m[1] in paper.stages, `${cmd} --help names stage ${m[1]}`);
      }
    }
  } finally {
    await p.dispose();
  }
});
