import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadPipeline } from "../pipeline/config/config.ts";
import { MAX_CONFIG_BYTES, MAX_LIST_ITEMS, MAX_STAGES } from "../pipeline/config/limits.ts";
import { TestProject } from "./fixtures/engine/project.ts";
import { chainConfig, CONFIG_FIXTURE_KINDS } from "./fixtures/config_chain.ts";

const stagesRoot = CONFIG_FIXTURE_KINDS;

/** Writes `files` into a temp dir; returns the path of the first. */
async function writeConfigs(files: Record<string, string>): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "config_limits_" });
  const paths = [];
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text);
    paths.push(join(dir, name));
  }
  return paths;
}

/** The ConfigError loading `file` throws. */
async function loadError(file: string, sets: string[] = []): Promise<ConfigError> {
  const err = await loadPipeline(file, { sets, stagesRoot }).then(
    () => assert.fail("config loaded; expected a ConfigError"),
    (e) => e,
  );
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err?.stack ?? err}`);
  return err;
}

Deno.test("config limits: a file over the size limit is refused before parsing, naming file and limit", async () => {
  // The issue's 5-million-item list param: 10 MB of `0,`.
  const list = `stages:\n  s:\n    uses: cfg_source\n    with:\n      sizes: [${
    "0,".repeat(5e6)
  }0]\n`;
  const [file] = await writeConfigs({ "huge.yaml": list });
  const err = await loadError(file);
  assert.equal(err.file, file);
  assert.match(err.message, /file is 9\.5 MB, over the 1\.0 MB limit for a config/);
  assert.ok(list.length > MAX_CONFIG_BYTES);
});

Deno.test("config limits: too many stages is refused with the count and the limit", async () => {
  const [file] = await writeConfigs({ "many.yaml": chainConfig(MAX_STAGES + 1) });
  const err = await loadError(file);
  assert.match(
    err.message,
    new RegExp(`stages: ${MAX_STAGES + 1} stages, over the limit of ${MAX_STAGES}`),
  );
  assert.equal(err.line, 1);
});

Deno.test("config limits: a config at the stage limit loads, in order", async () => {
  const [file] = await writeConfigs({ "limit.yaml": chainConfig(MAX_STAGES) });
  const p = await loadPipeline(file, { stagesRoot });
  assert.equal(p.stages.length, MAX_STAGES);
  assert.equal(p.stages[MAX_STAGES - 1].name, `s${MAX_STAGES - 1}`);
});

Deno.test("config limits: a list over the item limit names its key and line, from a file or a --set", async () => {
  const text = `stages:\n  s:\n    uses: cfg_source\n    with:\n      sizes: [${
    "1,".repeat(MAX_LIST_ITEMS)
  }1]\n`;
  const [file, small] = await writeConfigs({
    "long.yaml": text,
    "small.yaml": "stages:\n  s:\n    uses: cfg_source\n",
  });
  const err = await loadError(file);
  assert.equal(err.line, 5);
  assert.equal(err.key, "stages.s.with.sizes");
  assert.match(err.message, new RegExp(`a list of ${MAX_LIST_ITEMS + 1} items, over the limit`));
  const set = `stages.s.with.sizes=[${"1,".repeat(MAX_LIST_ITEMS)}1]`;
  const viaSet = await loadError(small, [set]);
  assert.match(viaSet.message, /^--set stages\.s\.with\.sizes=\[1,1,.* a list of 100001 items/);
});

Deno.test("config: .nan and .inf are reported as NaN and Infinity and said to be not allowed", async () => {
  const [file] = await writeConfigs({
    "nan.yaml": "stages:\n  s:\n    uses: cfg_source\n  m:\n    uses: cfg_map\n" +
      "    needs: { data: s }\n    with: { scale: .nan }\n",
    "inf.yaml": "stages:\n  s:\n    uses: cfg_source\n    with: { sizes: [1, -.inf] }\n",
  });
  const nan = await loadError(file);
  assert.match(nan.message, /:7: stages\.m\.with\.scale: found NaN; expected a finite number/);
  assert.match(nan.message, /\.nan and \.inf are not allowed here/);
  const inf = await loadError(file.replace("nan.yaml", "inf.yaml"));
  assert.match(inf.message, /stages\.s\.with\.sizes\.1: found -Infinity; expected a finite number/);
});

const BASE =
  "stages:\n  s:\n    uses: cfg_source\n  a:\n    uses: cfg_map\n    needs: { data: s }\n" +
  "    with: { scale: 1 }\n  b:\n    uses: cfg_map\n    needs: { data: a }\n    with: { scale: 1 }\n";

Deno.test("config: a cycle made by --set is blamed on the --set", async () => {
  const [file] = await writeConfigs({ "base.yaml": BASE });
  const err = await loadError(file, ["stages.a.needs.data=b"]);
  assert.match(err.message, /^--set stages\.a\.needs\.data=b \(on top of .*base\.yaml\): /);
  assert.match(err.message, /dependency cycle/);
});

Deno.test("config: a cycle made by a child config is blamed on the child file's line", async () => {
  const [, child] = await writeConfigs({
    "base.yaml": BASE,
    "child.yaml": "extends: base.yaml\nstages:\n  a:\n    needs: { data: b }\n",
  });
  const err = await loadError(child);
  assert.equal(err.file, child);
  assert.equal(err.line, 4);
  assert.match(err.message, /stages\.a\.needs\.data: dependency cycle/);
});

Deno.test("cli: an alias bomb is a config error with file:line (exit 2); a directory is called one", async () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  const p = await TestProject.create({ "bomb.yaml": `${bomb.join("\n")}\nstages: {}\n` });
  try {
    const r = await p.cli("run", "configs/bomb.yaml");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: \S*configs\/bomb\.yaml:2: cannot expand the YAML: .*alias/m);
    const dir = await p.cli("run", "configs");
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /configs is a directory; expected a YAML config file/);
  } finally {
    await p.dispose();
  }
});
