import assert from "node:assert/strict";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";

Deno.test("cli: a stage gets network access only when its kind declares it, and writes only its own dirs", async () => {
  const probe = SIX_STAGES
    .replace("with: { value: 1 }", "with: { value: 1, probe: true }")
    .replace("with: { value: 10 }", "with: { value: 10, probe: true, net: true }");
  const p = await TestProject.create({ "six.yaml": probe });
  try {
    const r = await p.cli("run", CONFIG);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /a \| permissions: net=prompt write-outDir=granted write-project=prompt ffi=prompt/,
    );
    assert.match(
      r.stderr,
      /b \| permissions: net=granted write-outDir=granted write-project=prompt ffi=prompt/,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: exp run keeps a variant beside the config; params diff and metrics diff show the change", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const exp = await p.cli("exp", "run", "s4", CONFIG, "--set", "stages.mb.with.scale=4");
    assert.equal(exp.code, 0, exp.stderr);
    assert.deepEqual(exp.summary, { ran: 3, cached: 3, failed: 0 });
    assert.equal(await p.read("artifacts/out/six/mb/data.txt"), "30\n60\n90\n");
    assert.equal(await p.read("artifacts/out/s4/mb/data.txt"), "40\n80\n120\n");
    const clash = await p.cli("exp", "run", "six", CONFIG);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /experiment name "six" is taken by configs\/six\.yaml/);
    const list = await p.cli("exp", "list");
    assert.match(list.stdout, /^s4 {2}configs\/six\.yaml {2}stages\.mb\.with\.scale=4 /m);

    const params = await p.cli("params", "diff", CONFIG, "s4");
    assert.equal(params.code, 0, params.stderr);
    assert.match(params.stdout, /^mb\.scale +\| 3 +\| 4 +\| \+33\.3%$/m);
    assert.equal(params.stdout.trim().split("\n").length, 3, params.stdout); // header, rule, one row

    const metrics = await p.cli("metrics", "diff", CONFIG, "s4");
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.match(metrics.stdout, /^mb\.sum +\| 180 +\| 240 +\| \+33\.3%$/m);
    assert.match(metrics.stdout, /^final\.sum +\| 192 +\| 252 /m);
    assert.doesNotMatch(metrics.stdout, /^ma\./m);

    const unknown = await p.cli("metrics", "diff", CONFIG, "nope");
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /"nope" is neither a config file nor an experiment \(configs: configs\/six\.yaml; experiments: s4\)/,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: gc removes only objects no lock file references and reports the bytes freed; --dry-run only lists them", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    // A variant run through a plain config with no lock kept afterwards leaves garbage.
    await p.write("configs/tmp.yaml", SIX_STAGES.replace("value: 10", "value: 11"));
    assert.equal((await p.cli("run", "configs/tmp.yaml")).code, 0);
    await Deno.remove(p.path("configs/tmp.lock.json"));
    // --dry-run lists what would go and removes nothing; without a terminal gc needs -f.
    const dry = await p.cli("gc", "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout.match(/^remove artifacts\/objects\/.* \(\d+ bytes\)$/gm)?.length, 5);
    assert.match(dry.stdout, /^remove artifacts\/out\/tmp\/$/m);
    assert.match(dry.stdout, /would remove 5 objects, 4 traces, out dirs tmp; would free/);
    const noTty = await p.cli("gc");
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /not on a terminal.*rerun with -f/);
    const gc = await p.cli("gc", "-f");
    assert.equal(gc.code, 0, gc.stderr);
    // b, mb, j, final of tmp.yaml differ: 1 + 2 + 2 + 2 files, but final (scale 1) writes the
    // same bytes as j, stored once → 5 objects.
    assert.match(
      gc.stdout,
      /gc: removed 5 objects, 4 traces, out dirs tmp; freed 0\.0 MB \(\d+ bytes\)/,
    );
    const again = await p.cli("run", CONFIG);
    assert.deepEqual(again.summary, { ran: 0, cached: 6, failed: 0 });
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: check passes on a faithful regeneration and prints the drifts otherwise", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const noLock = await p.cli("check", CONFIG);
    assert.equal(noLock.code, 2);
    assert.match(
      noLock.stderr,
      /no lock file .*six\.lock\.json: run `bin\/pipeline run configs\/six\.yaml` and commit it/,
    );
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const ok = await p.cli("check", CONFIG);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /check: metrics match configs\/six\.lock\.json within relative tolerance 0\.000001/,
    );

    const lock = JSON.parse(await p.read("configs/six.lock.json"));
    lock.stages.final.metrics.sum = 192.01; // 5e-5 relative
    lock.stages.final.metrics.train_seconds = 99; // timings are never compared
    await p.write("configs/six.lock.json", JSON.stringify(lock));
    const drift = await p.cli("check", CONFIG);
    assert.equal(drift.code, 1);
    assert.match(drift.stdout, /^final\.sum +\| 192\.01 +\| 192 +\| /m);
    assert.doesNotMatch(drift.stdout, /train_seconds/);
    assert.match(drift.stdout, /check: 1 metric\(s\) drifted beyond relative tolerance 0\.000001/);
    const loose = await p.cli("check", CONFIG, "--tolerance", "1e-4");
    assert.equal(loose.code, 0, loose.stdout);
    assert.equal(
      JSON.parse(await p.read("configs/six.lock.json")).stages.final.metrics.sum,
      192.01,
      "check never rewrites the lock",
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: --json prints a machine-readable report; dag prints Mermaid and DOT", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const r = await p.cli("run", CONFIG, "--json", "--jobs", "1");
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ran, 6);
    assert.deepEqual(report.stages.map((s: { stage: string }) => s.stage), [
      "a",
      "b",
      "ma",
      "mb",
      "j",
      "final",
    ]);
    assert.match(report.stages[5].outputs["data.txt"], /^[0-9a-f]{64}$/);
    assert.match(r.stderr.trimEnd().split("\n").pop()!, /^stages: 6 ran, 0 cached, 0 failed$/);
    const mermaid = await p.cli("dag", CONFIG);
    assert.match(mermaid.stdout, /^flowchart LR/);
    const dot = await p.cli("dag", CONFIG, "--format", "dot");
    assert.match(dot.stdout, /"ma" -> "j" \[label="parts"\];/);
  } finally {
    await p.dispose();
  }
});

Deno.test("cli: every subcommand has help; a bad config stops before anything runs", async () => {
  const p = await TestProject.create({
    "six.yaml": SIX_STAGES,
    "bad.yaml": "stages:\n  a:\n    uses: eng_nope\n",
  });
  try {
    const commands = [
      ["run"],
      ["reproduce"],
      ["status"],
      ["dag"],
      ["params", "diff"],
      ["metrics", "diff"],
      ["exp", "run"],
      ["exp", "list"],
      ["gc"],
      ["check"],
      ["verify"],
    ];
    const helps = await Promise.all(commands.map((cmd) => p.cli(...cmd, "--help")));
    commands.forEach((cmd, i) => {
      assert.equal(helps[i].code, 0, `${cmd.join(" ")} --help: ${helps[i].stderr}`);
      assert.match(helps[i].stdout, new RegExp(`^Usage: pipeline ${cmd.join(" ")}`, "m"));
    });
    const bad = await p.cli("run", "configs/bad.yaml");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml:3/);
    await assert.rejects(Deno.stat(p.path("artifacts/objects")), Deno.errors.NotFound);
  } finally {
    await p.dispose();
  }
});
