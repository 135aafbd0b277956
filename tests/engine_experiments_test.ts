import assert from "node:assert/strict";
import { join } from "node:path";
import { collect, SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";

const CONFIG = "configs/six.yaml";
const SWEEP = ["--sweep", "stages.mb.with.scale=2,3,4"];

/** Every stage-run manifest of the project: which stage, under which name, when. */
async function manifests(
  p: TestProject,
): Promise<{ name: string; stage: string; key: string; start: string; end: string }[]> {
  const dir = p.path("artifacts/runs");
  const out = [];
  for await (const e of Deno.readDir(dir)) {
    out.push(JSON.parse(await Deno.readTextFile(join(dir, e.name))));
  }
  return out;
}

/** How many times each stage ran, by stage name. */
async function runsPerStage(p: TestProject): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of await manifests(p)) counts[m.stage] = (counts[m.stage] ?? 0) + 1;
  return counts;
}

Deno.test("exp: a 3-value sweep runs each shared stage once and shows 3 experiments with their params", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const dry = await p.cli("exp", "run", "s", CONFIG, ...SWEEP, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    for (const v of [2, 3, 4]) {
      assert.match(dry.stdout, new RegExp(`^s-scale=${v}: would run a, b, ma, mb, j, final$`, "m"));
    }
    await assert.rejects(Deno.stat(p.path("artifacts/experiments")), Deno.errors.NotFound);

    const r = await p.cli("exp", "run", "s", CONFIG, ...SWEEP);
    assert.equal(r.code, 0, r.stderr);
    // a, b, ma are common to the three experiments: computed once, taken from the cache twice
    assert.deepEqual(await runsPerStage(p), { a: 1, b: 1, ma: 1, mb: 3, j: 3, final: 3 });
    assert.deepEqual(r.summary, { ran: 12, cached: 6, failed: 0 });
    assert.equal(await p.read("artifacts/out/s-scale=4/mb/data.txt"), "40\n80\n120\n");

    const show = await p.cli("exp", "show", "--json");
    assert.equal(show.code, 0, show.stderr);
    const rows = JSON.parse(show.stdout) as {
      name: string;
      params: Record<string, unknown>;
      metrics: Record<string, unknown>;
      status: string;
    }[];
    assert.deepEqual(rows.map((x) => x.name), [CONFIG, "s-scale=2", "s-scale=3", "s-scale=4"]);
    assert.deepEqual(rows.map((x) => x.params), [3, 2, 3, 4].map((v) => ({ "mb.scale": v })));
    assert.deepEqual(rows.map((x) => x.status), ["not run", "done", "done", "done"]);
    assert.deepEqual(rows.slice(1).map((x) => x.metrics["mb.sum"]), [120, 180, 240]);

    const text = await p.cli("exp", "show", "s", "--sort", "final.sum");
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split("\n");
    assert.match(lines[0], /^name +mb\.scale +.*final\.sum.* status$/);
    assert.deepEqual(lines.slice(2).map((l) => l.split(/ +/)[0]), [
      "s-scale=2",
      "s-scale=3",
      "s-scale=4",
      CONFIG,
    ]);
    const md = await p.cli("exp", "show", "--md");
    assert.match(md.stdout, /^\| s-scale=3 \| 3 \|/m);
    const csv = await p.cli("exp", "show", "--csv");
    assert.match(csv.stdout, /^s-scale=4,4,/m);
  } finally {
    await p.dispose();
  }
});

Deno.test("exp: `exp run NAME` alone reruns an experiment (or a sweep) with its recorded overrides", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("exp", "run", "s", CONFIG, ...SWEEP)).code, 0);
    await Deno.remove(p.path("artifacts/out/s-scale=4"), { recursive: true });
    const one = await p.cli("exp", "run", "s-scale=4");
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(one.summary, { ran: 0, cached: 6, failed: 0 });
    assert.equal(await p.read("artifacts/out/s-scale=4/mb/data.txt"), "40\n80\n120\n");
    const all = await p.cli("exp", "run", "s");
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.summary, { ran: 0, cached: 18, failed: 0 });

    const removed = await p.cli("exp", "remove", "s-scale=2", "s-scale=3");
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(Deno.stat(p.path("artifacts/out/s-scale=2")), Deno.errors.NotFound);
    const list = await p.cli("exp", "list");
    assert.deepEqual(list.stdout.trim().split("\n").map((l) => l.split("  ")[0]), ["s-scale=4"]);
  } finally {
    await p.dispose();
  }
});

Deno.test("exp: bad input names the thing and says how to fix it", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const cases: [string[], RegExp][] = [
      [
        ["exp", "run", "new", CONFIG],
        /experiment "new" does not exist yet; .*--set stages\.STAGE\.with\.PARAM=VALUE/,
      ],
      [
        ["exp", "run", "s", CONFIG, "--sweep", "stages.mb.with.scale=[2,3"],
        /bad --sweep "stages\.mb\.with\.scale=\[2,3": the list does not parse as YAML/,
      ],
      [
        ["exp", "run", "s", CONFIG, "--sweep", "stages.mb.with.scale=2,,3"],
        /bad --sweep "stages\.mb\.with\.scale=2,,3": an empty value/,
      ],
      [[
        "exp",
        "run",
        "s",
        CONFIG,
        "--sweep",
        "stages.mb.with.scale=2,3",
        "--set",
        "stages.mb.with.scale=5",
      ], /stages\.mb\.with\.scale is given by both --set and --sweep/],
      [["exp", "run", "s", CONFIG, "--sweep", "stages.mb.with.sclae=2,3"], /sclae/],
      [["exp", "show", "nope"], /no experiment or sweep named "nope"/],
      [["exp", "remove", "nope"], /no experiment named "nope"/],
      [["metrics", "diff", CONFIG], /diff needs two or more configs or experiments/],
    ];
    for (const [args, message] of cases) {
      const r = await p.cli(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    assert.equal(
      (await p.cli("exp", "run", "t", CONFIG, "--set", "stages.mb.with.scale=5")).code,
      0,
    );
    const sort = await p.cli("exp", "show", "--sort", "nope.sum");
    assert.equal(sort.code, 2);
    assert.match(
      sort.stderr,
      /--sort nope\.sum: no such metric or param column; columns: mb\.scale, /,
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("exp: metrics diff and params diff take three targets, headline first, with changes against the first", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    assert.equal((await p.cli("exp", "run", "s", CONFIG, ...SWEEP)).code, 0);
    const m = await p.cli("metrics", "diff", CONFIG, "s-scale=2", "s-scale=4");
    assert.equal(m.code, 0, m.stderr);
    const lines = m.stdout.trim().split("\n");
    assert.match(lines[0], /^key +configs\/six\.yaml +s-scale=2 +Δ +Δ% +s-scale=4 +Δ +Δ%$/);
    assert.match(m.stdout, /^mb\.sum +180 +120 +-60 +-33\.3% +240 +\+60 +\+33\.3%$/m);
    assert.ok(lines.every((l) => l.length <= 100), m.stdout);
    const json = JSON.parse((await p.cli("metrics", "diff", CONFIG, "s-scale=4", "--json")).stdout);
    assert.deepEqual(
      json.rows.find((r: { key: string }) => r.key === "mb.sum").changes["s-scale=4"],
      {
        abs: 60,
        rel: "+33.3%",
      },
    );
    const params = await p.cli("params", "diff", "s-scale=2", "s-scale=3", "s-scale=4", "--md");
    assert.match(
      params.stdout,
      /^\| mb\.scale \| 2 \| 3 \| \+1 \| \+50\.0% \| 4 \| \+2 \| \+100% \|$/m,
    );
  } finally {
    await p.dispose();
  }
});

const SLOW = (value: number) => `
stages:
  src:
    uses: eng_source
    with: { value: ${value}, sleep_ms: 1500 }
  m:
    uses: eng_map
    needs: { data: src }
`;

/** Runs the configs at once, each in its own CLI process. */
async function runTogether(p: TestProject, ...configs: string[]) {
  return (await Promise.all(configs.map((c) => p.spawn(["run", c]).output()))).map(collect);
}

Deno.test("locks: two runs on disjoint stages proceed at once; on the same stage it is computed once", async () => {
  const p = await TestProject.create({
    "one.yaml": SLOW(1),
    "two.yaml": SLOW(2),
    "copy.yaml": SLOW(1),
  });
  try {
    const [r1, r2] = await runTogether(p, "configs/one.yaml", "configs/two.yaml");
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    const src = (await manifests(p)).filter((m) => m.stage === "src");
    assert.equal(src.length, 2);
    const [x, y] = src;
    assert.ok(x.start < y.end && y.start < x.end, `runs overlap: ${JSON.stringify(src)}`);

    await p.write("configs/one.yaml", SLOW(3));
    await p.write("configs/copy.yaml", SLOW(3));
    const [c1, c2] = await runTogether(p, "configs/one.yaml", "configs/copy.yaml");
    assert.equal(c1.code, 0, c1.stderr);
    assert.equal(c2.code, 0, c2.stderr);
    assert.equal((await manifests(p)).filter((m) => m.stage === "src").length, 3);
    const waiter = [c1, c2].find((c) => /waiting for artifacts\/keylocks\//.test(c.stderr));
    assert.ok(waiter, `one run waits for the other: ${c1.stderr}\n${c2.stderr}`);
    assert.match(waiter.stderr, /held by pid \d+ on .* \(pipeline .*run configs\/\w+\.yaml\)/);
    assert.match(waiter.stderr, /src: reusing key [0-9a-f]{12}, computed meanwhile by another run/);
    assert.equal(
      await p.read("artifacts/out/copy/m/data.txt"),
      await p.read("artifacts/out/one/m/data.txt"),
    );
  } finally {
    await p.dispose();
  }
});

Deno.test("locks: a killed run leaves no lock that blocks the next one", async () => {
  const p = await TestProject.create({ "one.yaml": SLOW(5).replace("1500", "20000") });
  try {
    const engine = p.spawn(["run", "configs/one.yaml"]);
    const end = Date.now() + 20000;
    while (!(await Deno.stat(p.path("artifacts/state")).catch(() => undefined))) {
      if (Date.now() > end) throw new Error("the stage never started");
      await new Promise((r) => setTimeout(r, 50));
    }
    engine.kill("SIGKILL");
    await engine.output();
    const next = await p.cli("dag", "configs/one.yaml"); // any command; then a run that needs the key
    assert.equal(next.code, 0, next.stderr);
    const started = Date.now();
    await p.write("configs/one.yaml", SLOW(5).replace("1500", "10"));
    const run = await p.cli("run", "configs/one.yaml");
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /waiting for/);
    assert.ok(Date.now() - started < 15000, "the next run did not wait for the killed one");
  } finally {
    await p.dispose();
  }
});

Deno.test("exp: a sweep's experiments keep one verification memo: every object any of them stored is in it", async () => {
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const r = await p.cli("exp", "run", "s", CONFIG, ...SWEEP);
    assert.equal(r.code, 0, r.stderr);
    const objects = [];
    for await (const shard of Deno.readDir(p.path("artifacts/objects"))) {
      if (!shard.isDirectory) continue;
      for await (const o of Deno.readDir(p.path(`artifacts/objects/${shard.name}`))) {
        objects.push(o.name);
      }
    }
    const memo = JSON.parse(await p.read("artifacts/objects/verified.json"));
    // 3 sources' and maps' outputs, 3 joins, 3 finals: one run's flush used to drop the others'
    assert.ok(objects.length >= 6, `${objects.length} objects`);
    assert.deepEqual(objects.filter((o) => !(o in memo)), []);
  } finally {
    await p.dispose();
  }
});
