import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  loadPipeline,
  type Pipeline,
  resolvedConfig,
} from "../pipeline/config/config.ts";
import { toDot, toMermaid } from "../pipeline/cli/dag_text.ts";
import { differing, diffTable } from "../pipeline/cli/diff_table.ts";
import { flatten } from "../pipeline/cli/flatten.ts";

const stagesRoot = fileURLToPath(new URL("./fixtures/stages", import.meta.url));

/** Writes `files` (name → YAML text) into a fresh temp dir and returns a path maker. */
async function configDir(files: Record<string, string>): Promise<(name: string) => string> {
  const dir = await Deno.makeTempDir({ prefix: "config_test_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  return (name) => join(dir, name);
}

/** Loads a single YAML text as `p.yaml`; returns the pipeline and the file path. */
async function load(text: string, sets: string[] = []): Promise<{ p: Pipeline; file: string }> {
  const file = (await configDir({ "p.yaml": text }))("p.yaml");
  return { p: await loadPipeline(file, { sets, stagesRoot }), file };
}

/**
 * Asserts loading rejects with a ConfigError at `file:line` (line omitted for `--set`) for
 * `key`, whose message contains every fragment of `says`.
 */
async function rejects(
  loading: Promise<unknown>,
  want: { file: string; line?: number; key?: string; says: string[] },
): Promise<ConfigError> {
  const err = await loading.then(
    () => assert.fail("config loaded; expected a ConfigError"),
    (e) => e,
  );
  assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
  assert.equal(err.file, want.file);
  assert.equal(err.line, want.line);
  assert.equal(err.key, want.key);
  const prefix = want.line === undefined ? "" : `${want.file}:${want.line}: `;
  assert.ok(err.message.startsWith(prefix), `message should start with ${prefix}: ${err.message}`);
  if (want.key) {
    assert.ok(
      err.message.includes(`${want.key}: `),
      `message should name ${want.key}: ${err.message}`,
    );
  }
  for (const s of want.says) {
    assert.ok(err.message.includes(s), `message should say ${s}: ${err.message}`);
  }
  return err;
}

async function rejectsText(
  text: string,
  want: { line?: number; key?: string; says: string[] },
  sets: string[] = [],
) {
  const file = (await configDir({ "p.yaml": text }))("p.yaml");
  return rejects(loadPipeline(file, { sets, stagesRoot }), { file, ...want });
}

const CHAIN = `description: a small chain
stages:
  src:
    uses: cfg_source
    with: { count: 5 }
  double:
    uses: cfg_map
    needs: { data: src }
    with:
      scale: 2
`;

Deno.test("loadPipeline: stages come out validated with defaults applied and inputs as lists", async () => {
  const { p } = await load(CHAIN);
  assert.equal(p.name, "p");
  assert.equal(p.description, "a small chain");
  assert.deepEqual(p.stages.map((s) => [s.name, s.uses]), [["src", "cfg_source"], [
    "double",
    "cfg_map",
  ]]);
  assert.deepEqual(p.stages[0].params, { count: 5, sizes: [1, 2], opts: { verbose: false } });
  assert.deepEqual(p.stages[1].params, { scale: 2, mode: "sum" });
  assert.deepEqual(p.stages[1].needs, { data: ["src"] });
  assert.equal(p.stages[1].kindDir, join(stagesRoot, "cfg_map"));
  assert.deepEqual(p.stages[1].kind.outputs(p.stages[1].params), ["rows.json"]);
  assert.match(p.digest, /^[0-9a-f]{64}$/);
});

Deno.test("loadPipeline: topological order puts upstreams first and keeps declaration order for ties", async () => {
  const { p } = await load(`stages:
  report:
    uses: cfg_join
    needs: { items: [b, a], reference: base }
  a: { uses: cfg_map, needs: { data: base }, with: { scale: 1 } }
  b: { uses: cfg_map, needs: { data: base }, with: { scale: 2 } }
  base: { uses: cfg_source }
  other: { uses: cfg_source }
`);
  assert.deepEqual(p.stages.map((s) => s.name), ["base", "a", "b", "report", "other"]);
  assert.deepEqual(p.stages[3].needs, { items: ["b", "a"], reference: ["base"] });
});

Deno.test("loadPipeline: extends deep-merges maps and overrides scalars and lists, recursively", async () => {
  const path = await configDir({
    "base.yaml": `description: base
stages:
  src: { uses: cfg_source, with: { count: 4, sizes: [1, 2, 3], opts: { verbose: true } } }
  double: { uses: cfg_map, needs: { data: src }, with: { scale: 2, mode: mean } }
`,
    "mid.yaml": "extends: base.yaml\nstages:\n  src: { with: { count: 7 } }\n",
    "top.yaml": `extends: mid.yaml
description: top
stages:
  src:
    with: { sizes: [9] }
  extra: { uses: cfg_source }
`,
  });
  const p = await loadPipeline(path("top.yaml"), { stagesRoot });
  assert.equal(p.name, "top");
  assert.equal(p.description, "top");
  assert.deepEqual(p.stages.map((s) => s.name), ["src", "double", "extra"]);
  assert.deepEqual(p.stages[0].params, { count: 7, sizes: [9], opts: { verbose: true } });
  assert.deepEqual(p.stages[1].params, { scale: 2, mode: "mean" });
});

Deno.test("loadPipeline: YAML anchors and merge keys share params between stages", async () => {
  const { p } = await load(`stages:
  src: { uses: cfg_source }
  a:
    uses: cfg_map
    needs: { data: src }
    with: &shared { scale: 2, mode: mean }
  b:
    uses: cfg_map
    needs: { data: src }
    with: { <<: *shared, scale: 3 }
`);
  assert.deepEqual(p.stages[1].params, { scale: 2, mode: "mean" });
  assert.deepEqual(p.stages[2].params, { scale: 3, mode: "mean" });
});

Deno.test("loadPipeline: an error in a value inherited through extends names the base file and line", async () => {
  const path = await configDir({
    "base.yaml": "stages:\n  src:\n    uses: cfg_source\n    with:\n      count: many\n",
    "top.yaml": "extends: base.yaml\nstages:\n  src: { with: { label: x } }\n",
  });
  await rejects(loadPipeline(path("top.yaml"), { stagesRoot }), {
    file: path("base.yaml"),
    line: 5,
    key: "stages.src.with.count",
    says: ['found "many" (string); expected number'],
  });
});

Deno.test("loadPipeline: a cycle in extends is an error naming the chain", async () => {
  const path = await configDir({
    "a.yaml": "extends: b.yaml\nstages: {}\n",
    "b.yaml": "stages: {}\nextends: a.yaml\n",
  });
  await rejects(loadPipeline(path("a.yaml"), { stagesRoot }), {
    file: path("b.yaml"),
    line: 2,
    key: "extends",
    says: [`extends cycle: ${path("a.yaml")} -> ${path("b.yaml")} -> ${path("a.yaml")}`],
  });
});

Deno.test("loadPipeline: extends naming a missing file is an error at the extends line", async () => {
  await rejectsText("description: x\nextends: nowhere.yaml\nstages: {}\n", {
    line: 2,
    key: "extends",
    says: ["nowhere.yaml not found", "expected a path relative to"],
  });
});

Deno.test("loadPipeline: --set values are typed by YAML rules (numbers, booleans, lists, strings)", async () => {
  const { p } = await load(CHAIN, [
    "stages.src.with.count=12",
    "stages.src.with.label=hello",
    "stages.src.with.sizes=[4, 1e-3]",
    "stages.src.with.opts.verbose=true",
    "stages.double.with.mode=mean",
  ]);
  assert.deepEqual(p.stages[0].params, {
    count: 12,
    label: "hello",
    sizes: [4, 0.001],
    opts: { verbose: true },
  });
  assert.deepEqual(p.stages[1].params, { scale: 2, mode: "mean" });
});

Deno.test("loadPipeline: --set can rewire needs and change uses", async () => {
  const { p } = await load(CHAIN + "  other: { uses: cfg_source }\n", [
    "stages.double.needs.data=other",
    "stages.other.uses=cfg_map",
    "stages.other.needs.data=src",
    "stages.other.with.scale=3",
  ]);
  assert.deepEqual(p.stages.map((s) => s.name), ["src", "other", "double"]);
  assert.deepEqual(p.stages[1].needs, { data: ["src"] });
  assert.deepEqual(p.stages[1].params, { scale: 3, mode: "sum" });
  assert.deepEqual(p.stages[2].needs, { data: ["other"] });
});

Deno.test("loadPipeline: a --set value of the wrong type is reported as coming from that --set", async () => {
  await rejectsText(CHAIN, {
    key: "stages.src.with.label",
    says: ["--set stages.src.with.label=true (on top of", "found true (boolean); expected string"],
  }, ["stages.src.with.label=true"]);
});

Deno.test("loadPipeline: --set on a stage that does not exist is an error suggesting the closest", async () => {
  await rejectsText(CHAIN, {
    key: "stages.dobule",
    says: ["--set stages.dobule.with.scale=3", "no such stage", 'did you mean "double"'],
  }, ["stages.dobule.with.scale=3"]);
});

Deno.test("loadPipeline: bad --set syntax says which forms are accepted", async () => {
  const forms = "expected stages.NAME.with.KEY=VALUE";
  await rejectsText(CHAIN, { says: ["--set stages.src.with.count", 'no "="', forms] }, [
    "stages.src.with.count",
  ]);
  await rejectsText(CHAIN, { key: "src.with.count", says: ["bad --set key", forms] }, [
    "src.with.count=3",
  ]);
  await rejectsText(CHAIN, { key: "stages.src.with", says: ["bad --set key", forms] }, [
    "stages.src.with=3",
  ]);
  await rejectsText(CHAIN, { key: "stages.src.with.count", says: ["bad --set value"] }, [
    "stages.src.with.count=[1,",
  ]);
});

Deno.test("loadPipeline: malformed YAML names the file and line", async () => {
  await rejectsText("stages:\n  src:\n    uses: cfg_source\n    with: { count: 3\n  double: {}\n", {
    line: 5,
    says: ["malformed YAML", "Flow map", "end with a }"],
  });
  await rejectsText("stages:\n  src: { uses: cfg_source }\n  src: { uses: cfg_source }\n", {
    line: 3,
    says: ["malformed YAML", "unique"],
  });
});

Deno.test("loadPipeline: an unknown top-level key is an error suggesting the closest", async () => {
  await rejectsText("stages:\n  src: { uses: cfg_source }\ndescripton: typo\n", {
    line: 3,
    key: "descripton",
    says: [
      'unknown top-level key "descripton"',
      "expected one of: stages, description, extends, remote, executor",
      'did you mean "description"',
    ],
  });
});

Deno.test("loadPipeline: an unknown stage key is an error suggesting the closest", async () => {
  await rejectsText("stages:\n  src:\n    uses: cfg_source\n    width: { count: 2 }\n", {
    line: 4,
    key: "stages.src.width",
    says: [
      'unknown stage key "width"',
      "expected one of: uses, needs, with, allow, resources",
      'did you mean "with"',
    ],
  });
});

Deno.test("loadPipeline: an unknown kind is an error listing the available kinds", async () => {
  await rejectsText("stages:\n  src:\n    uses: cfg_sorce\n", {
    line: 3,
    key: "stages.src.uses",
    says: [
      'unknown stage kind "cfg_sorce"',
      "expected one of: ",
      "cfg_join, cfg_loose, cfg_map, cfg_source", // sorted; engine fixtures (eng_*) may follow
      'did you mean "cfg_source"',
    ],
  });
});

Deno.test("loadPipeline: a kind whose params schema accepts unknown keys is rejected", async () => {
  await rejectsText("stages:\n  src:\n    uses: cfg_loose\n    with: { sise: 2 }\n", {
    line: 3,
    key: "stages.src.uses",
    says: ["cfg_loose/kind.ts accepts unknown keys", "expected z.strictObject"],
  });
});

Deno.test("loadPipeline: --set does not mask a malformed stages map", async () => {
  await rejectsText("stages:\n  - src\n", {
    line: 1,
    key: "stages",
    says: ['found ["src"]; expected a map of stage name'],
  }, ["stages.src.uses=cfg_source"]);
});

Deno.test("loadPipeline: a stage without uses is an error at the stage listing the kinds", async () => {
  await rejectsText("stages:\n  src:\n    with: { count: 1 }\n", {
    line: 2,
    key: "stages.src",
    says: [
      'missing "uses:"',
      "expected a stage kind, one of: ",
      "cfg_join, cfg_loose, cfg_map, cfg_source",
    ],
  });
});

Deno.test("loadPipeline: a relative stagesRoot still gives an absolute kindDir", async () => {
  const file = (await configDir({ "p.yaml": CHAIN }))("p.yaml");
  const p = await loadPipeline(file, { stagesRoot: relative(Deno.cwd(), stagesRoot) });
  assert.equal(p.stages[0].kindDir, join(stagesRoot, "cfg_source"));
});

Deno.test("loadPipeline: a misspelled param is an error suggesting the closest param name", async () => {
  await rejectsText(CHAIN.replace("with: { count: 5 }", "with:\n      cuont: 5"), {
    line: 6,
    key: "stages.src.with.cuont",
    says: [
      'unknown param "cuont" for kind "cfg_source"',
      "expected one of: count, label, sizes, opts",
      'did you mean "count"',
    ],
  });
});

Deno.test("loadPipeline: an unknown nested param names the nested key", async () => {
  await rejectsText(
    "stages:\n  src:\n    uses: cfg_source\n    with:\n      opts:\n        verbos: true\n",
    {
      line: 6,
      key: "stages.src.with.opts.verbos",
      says: ['unknown param "verbos"', 'did you mean "verbose"'],
    },
  );
});

Deno.test("loadPipeline: a param of the wrong type says what was found and expected", async () => {
  await rejectsText(CHAIN.replace("scale: 2", "scale: [2]"), {
    line: 10,
    key: "stages.double.with.scale",
    says: ["found [2] (list); expected number"],
  });
  await rejectsText(CHAIN.replace("scale: 2", "scale: 2\n      mode: median"), {
    line: 11,
    key: "stages.double.with.mode",
    says: ['found "median"', '"sum"|"mean"'],
  });
});

Deno.test("loadPipeline: several param problems are all listed, unknown names first", async () => {
  const err = await rejectsText(CHAIN.replace("scale: 2", "sclae: 2\n      mode: 1"), {
    line: 10,
    key: "stages.double.with.sclae",
    says: ['unknown param "sclae"', 'did you mean "scale"'],
  });
  assert.match(
    err.message,
    /\n {2}also .*p\.yaml:9: stages\.double\.with\.scale: missing required param/,
  );
  assert.match(err.message, /\n {2}also .*p\.yaml:11: stages\.double\.with\.mode: found 1;/);
});

Deno.test("loadPipeline: a missing required param points at the stage's with", async () => {
  await rejectsText(CHAIN.replace("scale: 2", "mode: mean"), {
    line: 9,
    key: "stages.double.with.scale",
    says: ["missing required param; expected number"],
  });
});

Deno.test("loadPipeline: a missing required input names the input and what it must hold", async () => {
  await rejectsText(CHAIN.replace("    needs: { data: src }\n", ""), {
    line: 6,
    key: "stages.double.needs",
    says: ["missing required input data (rows from a source stage)"],
  });
});

Deno.test("loadPipeline: an unknown input name is an error suggesting the closest", async () => {
  await rejectsText(CHAIN.replace("{ data: src }", "{ date: src }"), {
    line: 8,
    key: "stages.double.needs.date",
    says: [
      'unknown input "date" for kind "cfg_map"',
      "expected one of: data",
      'did you mean "data"',
    ],
  });
});

Deno.test("loadPipeline: needs naming an unknown upstream stage is an error listing the stages", async () => {
  await rejectsText(CHAIN.replace("{ data: src }", "{ data: scr }"), {
    line: 8,
    key: "stages.double.needs.data",
    says: ['unknown upstream stage "scr"', "expected one of: src", 'did you mean "src"'],
  });
  await rejectsText(
    CHAIN +
      "  join:\n    uses: cfg_join\n    needs:\n      reference: src\n      items:\n        - src\n        - doubel\n",
    {
      line: 17,
      key: "stages.join.needs.items.1",
      says: [
        'unknown upstream stage "doubel"',
        "expected one of: src, double",
        'did you mean "double"',
      ],
    },
  );
});

Deno.test("loadPipeline: a single input given a list is an error", async () => {
  await rejectsText(CHAIN.replace("{ data: src }", "{ data: [src] }"), {
    line: 8,
    key: "stages.double.needs.data",
    says: ['found a list ["src"]', "expected a single upstream stage name"],
  });
});

Deno.test("loadPipeline: a many input listing the same stage twice is an error", async () => {
  await rejectsText(
    CHAIN +
      "  join:\n    uses: cfg_join\n    needs: { reference: src, items: [src, double, src] }\n",
    {
      line: 13,
      key: "stages.join.needs.items.2",
      says: ['stage "src" listed twice', "expected each upstream stage once"],
    },
  );
});

Deno.test("loadPipeline: a dependency cycle is an error printing the cycle path", async () => {
  await rejectsText(
    `stages:
  src: { uses: cfg_source }
  a:
    uses: cfg_map
    needs: { data: c }
    with: { scale: 1 }
  b: { uses: cfg_map, needs: { data: a }, with: { scale: 1 } }
  c: { uses: cfg_map, needs: { data: b }, with: { scale: 1 } }
`,
    {
      line: 7,
      key: "stages.b.needs.data",
      says: ["dependency cycle a -> b -> c -> a", "expected stages to form a DAG"],
    },
  );
});

Deno.test("loadPipeline: the digest ignores key order and follows param values", async () => {
  const reordered = `stages:
  double:
    with:
      scale: 2
    needs: { data: src }
    uses: cfg_map
  src:
    with: { count: 5 }
    uses: cfg_source
description: a small chain
`;
  const { p: a } = await load(CHAIN);
  const { p: b } = await load(reordered);
  assert.equal(a.digest, b.digest);
  const { p: defaults } = await load(CHAIN.replace("scale: 2", "scale: 2\n      mode: sum"));
  assert.equal(
    defaults.digest,
    a.digest,
    "spelling out a default leaves the resolved config unchanged",
  );
  const { p: changed } = await load(CHAIN, ["stages.double.with.scale=3"]);
  assert.notEqual(changed.digest, a.digest);
});

Deno.test("dag: Mermaid and DOT show every stage with its kind and every input edge", async () => {
  const { p } = await load(CHAIN);
  assert.equal(
    toMermaid(p),
    `flowchart LR
  n0["src<br/><i>cfg_source</i>"]
  n1["double<br/><i>cfg_map</i>"]
  n0 -->|data| n1
`,
  );
  assert.equal(
    toDot(p),
    `digraph "p" {
  rankdir=LR;
  node [shape=box];
  "src" [label="src\\n(cfg_source)"];
  "double" [label="double\\n(cfg_map)"];
  "src" -> "double" [label="data"];
}
`,
  );
});

const hasGraphviz = (() => {
  try {
    return new Deno.Command("dot", { args: ["-V"], stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!hasGraphviz) console.warn("config_test: graphviz `dot` not installed; skipping the DOT check");

Deno.test({
  name: "dag: Graphviz accepts the DOT text and draws every stage and edge",
  ignore: !hasGraphviz,
  fn: async () => {
    const { p } = await load(`stages:
  base-data: { uses: cfg_source }
  a: { uses: cfg_map, needs: { data: base-data }, with: { scale: 1 } }
  "b": { uses: cfg_join, needs: { items: [a, base-data], reference: a } }
`);
    const child = new Deno.Command("dot", { args: ["-Tplain"], stdin: "piped", stdout: "piped" })
      .spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(toDot(p)));
    await writer.close();
    const out = await child.output();
    assert.ok(out.success, "dot exits 0");
    const plain = new TextDecoder().decode(out.stdout).split("\n");
    assert.deepEqual(
      plain.filter((l) => l.startsWith("node ")).map((l) => l.split(" ")[1]).sort(),
      ['"base-data"', "a", "b"], // -Tplain quotes names that need it
    );
    assert.equal(plain.filter((l) => l.startsWith("edge ")).length, 4);
  },
});

Deno.test("diffTable: one aligned row per differing dotted key, numbers with absolute and relative change", async () => {
  const { p: a } = await load(CHAIN);
  const { p: b } = await load(CHAIN, ["stages.double.with.scale=3", "stages.src.with.label=x"]);
  const [fa, fb] = [a, b].map((p) => flatten(resolvedConfig(p)));
  const keys = [...new Set([...fa.keys(), ...fb.keys()])];
  const rows = differing(keys.map((key) => ({ key, values: [fa.get(key), fb.get(key)] })));
  const table = diffTable({ labels: ["base", "variant"], rows, format: "text", precision: 4 });
  assert.equal(
    table,
    [
      "key                       base  variant   Δ      Δ%",
      "------------------------  ----  -------  --  ------",
      "stages.double.with.scale     2  3        +1  +50.0%",
      "stages.src.with.label        —  x",
    ].join("\n"),
  );
  assert.equal(
    diffTable({ labels: ["x", "y"], rows: [], format: "text", precision: 4 }),
    "no differences",
  );
  const loss = [{ key: "m.loss", values: [0.5, 0.4] }];
  assert.equal(
    diffTable({ labels: ["r1", "r2"], rows: loss, format: "md", precision: 4 }).split("\n")[2],
    "| m.loss | 0.5 | 0.4 | -0.1 | -20.0% |",
  );
});
