/**
 * `status` for scripts and CI on a fixture project: `--quiet` exit codes, `--json`, the
 * nearest stale upstream named once, and stages that may be cut off early marked as such.
 */
import assert from "node:assert/strict";
import { TestProject } from "./fixtures/engine/project.ts";

/** `a` feeds `ma`, and `j` reads both: a stale `a` is an ancestor of `j` twice over. */
const DIAMOND = (value: number) => `
stages:
  a:
    uses: eng_source
    with: { value: ${value} }
  ma:
    uses: eng_map
    needs: { data: a }
    with: { scale: 2 }
  j:
    uses: eng_join
    needs: { parts: [a, ma] }
`;
const CONFIG = "configs/d.yaml";

Deno.test("status --quiet: no output, exit 0 when everything is up to date and 1 when anything is stale", async () => {
  const p = await TestProject.create({ "d.yaml": DIAMOND(1) });
  try {
    const never = await p.cli("status", CONFIG, "--quiet");
    assert.deepEqual([never.code, never.stdout, never.stderr], [1, "", ""]);
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    const fresh = await p.cli("status", CONFIG, "-q");
    assert.deepEqual([fresh.code, fresh.stdout, fresh.stderr], [0, "", ""]);
    const stale = await p.cli("status", CONFIG, "-q", "-S", "stages.a.with.value=2");
    assert.deepEqual([stale.code, stale.stdout, stale.stderr], [1, "", ""]);
    const loud = await p.cli("status", CONFIG, "-S", "stages.a.with.value=2");
    assert.equal(loud.code, 0, "without --quiet, status reports and succeeds");
  } finally {
    await p.dispose();
  }
});

Deno.test("status: the nearest stale upstream is named once, and a stage stale only through it may be cut off early", async () => {
  const p = await TestProject.create({ "d.yaml": DIAMOND(1) });
  try {
    assert.equal((await p.cli("run", CONFIG)).code, 0);
    await p.write(CONFIG, DIAMOND(2));
    const s = await p.cli("status", CONFIG);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(s.stdout.trimEnd().split("\n"), [
      "stale       a   (eng_source)",
      "    - param value: 1 → 2",
      "stale       ma  (eng_map)  [may be cut off early]",
      "    - upstream a is stale",
      "stale       j   (eng_join)  [may be cut off early]",
      "    - upstream ma is stale",
      "0 up to date, 3 stale (2 may be cut off early)",
    ]);
    const json = JSON.parse((await p.cli("status", CONFIG, "--json")).stdout);
    assert.deepEqual(
      json.stages.map((x: { stage: string; mayCutOff: boolean; reasons: { kind: string }[] }) => [
        x.stage,
        x.mayCutOff,
        x.reasons.map((r) => r.kind),
      ]),
      [["a", false, ["param-changed"]], ["ma", true, ["upstream-stale"]], ["j", true, [
        "upstream-stale",
      ]]],
    );
    // The dry run marks them too.
    const dry = await p.cli("run", CONFIG, "-n");
    assert.match(dry.stdout, /^would run ma {2}\[may be cut off early\]$/m);
  } finally {
    await p.dispose();
  }
});
