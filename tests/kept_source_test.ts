/**
 * Parsed configs kept between runs (`pipeline/config/kept_source.ts`): reused only while every
 * file of the `extends:` chain has the same text, never for `--set` loads, never for errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadPipeline, type Pipeline } from "../pipeline/config/config.ts";

const stagesRoot = fileURLToPath(new URL("./fixtures/stages", import.meta.url));

/** A temp dir with config files and the files a load keeps between runs. */
async function project(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "kept_source_test_" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  const cache = {
    graphs: join(dir, "state", "graphs.json"),
    declarations: join(dir, "state", "declarations.json"),
    sources: join(dir, "state", "sources.json"),
  };
  return {
    path: (name: string) => join(dir, name),
    load: (name: string, sets: string[] = []) =>
      loadPipeline(join(dir, name), { stagesRoot, cache, sets }),
    kept: async () =>
      JSON.parse(await Deno.readTextFile(cache.sources).catch(() => "{}")) as Record<
        string,
        { files: { path: string }[]; value: string }
      >,
    /** Rewrites stage `src`'s `with:` in the value kept for `name` (what a reuse hands back). */
    tamper: async (name: string, edit: (w: Record<string, unknown>) => void) => {
      const kept = JSON.parse(await Deno.readTextFile(cache.sources));
      const value = JSON.parse(kept[join(dir, name)].value);
      edit(value.stages.src.with);
      kept[join(dir, name)].value = JSON.stringify(value);
      await Deno.writeTextFile(cache.sources, JSON.stringify(kept));
    },
    dispose: () => Deno.remove(dir, { recursive: true }),
  };
}

const ONE_STAGE = "stages:\n  src: { uses: cfg_source, with: { count: 3 } }\n";

/** Runs `test` on a fresh project with `files`, removed afterwards. */
async function withProject(
  files: Record<string, string>,
  test: (p: Awaited<ReturnType<typeof project>>) => Promise<void>,
): Promise<void> {
  const p = await project(files);
  try {
    await test(p);
  } finally {
    await p.dispose();
  }
}

const count = (p: Pipeline) => (p.stages[0].params as { count: number }).count;

/** Rewrites a file with `text` and gives it back its size and mtime (a stat cannot tell). */
async function rewriteKeepingStat(path: string, text: string): Promise<void> {
  const before = await Deno.stat(path);
  assert.equal(new TextEncoder().encode(text).length, before.size);
  await Deno.writeTextFile(path, text);
  await Deno.utime(path, before.atime!, before.mtime!);
}

Deno.test("kept source: a config loaded again is taken from the kept source, not parsed", async () => {
  await withProject({ "p.yaml": ONE_STAGE }, async (p) => {
    const first = await p.load("p.yaml");
    const kept = await p.kept();
    assert.deepEqual(kept[p.path("p.yaml")].files.map((f) => f.path), [p.path("p.yaml")]);
    assert.equal((await p.load("p.yaml")).digest, first.digest);
    // What is handed back is the kept value (a real parse would give 3).
    await p.tamper("p.yaml", (w) => (w.count = 4));
    assert.equal(count(await p.load("p.yaml")), 4);
  });
});

Deno.test("kept source: an edit to the config or to a base it extends is seen though size and mtime are unchanged", async () => {
  await withProject({
    "base.yaml": "stages:\n  src: { uses: cfg_source, with: { count: 3 } }\n",
    "top.yaml": "extends: base.yaml\ndescription: one\n",
  }, async (p) => {
    assert.equal(count(await p.load("top.yaml")), 3);
    await rewriteKeepingStat(
      p.path("base.yaml"),
      "stages:\n  src: { uses: cfg_source, with: { count: 5 } }\n",
    );
    assert.equal(count(await p.load("top.yaml")), 5);
    await rewriteKeepingStat(p.path("top.yaml"), "extends: base.yaml\ndescription: two\n");
    assert.equal((await p.load("top.yaml")).description, "two");
  });
});

Deno.test("kept source: a kept value the kinds reject is not trusted; the files are parsed again", async () => {
  await withProject({ "p.yaml": ONE_STAGE }, async (p) => {
    await p.load("p.yaml");
    await p.tamper("p.yaml", (w) => (w.colour = "red"));
    assert.equal(count(await p.load("p.yaml")), 3);
  });
});

Deno.test("kept source: a config that fails is not kept, and its error names the line every time", async () => {
  await withProject({
    "p.yaml": "stages:\n  src:\n    uses: cfg_source\n    with: { count: -1 }\n",
  }, async (p) => {
    for (let i = 0; i < 2; i++) {
      const err = await p.load("p.yaml").then(() => assert.fail("loaded"), (e) => e);
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.line, 4, err.message);
    }
    assert.deepEqual(await p.kept(), {});
  });
});

Deno.test("kept source: a load with --set neither uses nor keeps a kept source", async () => {
  await withProject({ "p.yaml": ONE_STAGE }, async (p) => {
    assert.equal(count(await p.load("p.yaml", ["stages.src.with.count=9"])), 9);
    assert.deepEqual(await p.kept(), {});
    await p.load("p.yaml");
    await p.tamper("p.yaml", (w) => (w.count = 4));
    assert.equal(count(await p.load("p.yaml", ["stages.src.with.label=x"])), 3);
  });
});

Deno.test("kept source: an unreadable sources file is ignored and rewritten", async () => {
  await withProject({ "p.yaml": ONE_STAGE }, async (p) => {
    await p.load("p.yaml");
    await Deno.writeTextFile(join(p.path("state"), "sources.json"), "{not json");
    assert.equal(count(await p.load("p.yaml")), 3);
    assert.ok(p.path("p.yaml") in await p.kept());
  });
});
