import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { moduleGraphs } from "../pipeline/rebuilder/module_graph.ts";
import { STAGE_MAIN } from "../pipeline/protocol.ts";
import { SANDBOX_MAIN } from "../pipeline/permissions/kind_sandbox.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** Every root module the engine asks graphs of: each kind's two modules and both entry points. */
function engineRoots(): string[] {
  const kinds = [...Deno.readDirSync(join(REPO, "stages"))]
    .filter((e) => e.isDirectory && e.name !== "lib")
    .map((e) => e.name)
    .sort();
  return [
    ...kinds.flatMap((
      k,
    ) => [join(REPO, "stages", k, "kind.ts"), join(REPO, "stages", k, "run.ts")]),
    STAGE_MAIN,
    SANDBOX_MAIN,
  ];
}

Deno.test("module graphs: roots asked for together (one deno info) get the graph each gets alone, modules in the same order", async () => {
  const roots = engineRoots();
  assert.ok(roots.length >= 12, `only ${roots.length} roots`);
  const together = moduleGraphs(REPO);
  const batched = await Promise.all(roots.map((r) => together.of([r])));
  for (const [i, root] of roots.entries()) {
    const alone = await moduleGraphs(REPO).of([root]);
    assert.ok(Object.keys(alone.modules).length > 0, root);
    assert.equal(JSON.stringify(batched[i]), JSON.stringify(alone), root);
  }
});

Deno.test("module graphs: a root that does not exist gets the same graph with others as alone (marked missing), and does not spoil theirs", async () => {
  const missing = join(REPO, "stages", "no_such_kind", "run.ts");
  const alone = await moduleGraphs(REPO).of([missing]);
  assert.match(alone.modules["stages/no_such_kind/run.ts"], /^missing: Module not found/);
  const graphs = moduleGraphs(REPO);
  const [bad, good] = await Promise.all([graphs.of([missing]), graphs.of([STAGE_MAIN])]);
  assert.equal(JSON.stringify(bad), JSON.stringify(alone));
  assert.equal(JSON.stringify(good), JSON.stringify(await moduleGraphs(REPO).of([STAGE_MAIN])));
});
