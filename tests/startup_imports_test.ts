/**
 * What a no-op `run` loads: the CLI's static import graph and every stage kind's `kind.ts`
 * (imported by the kind sandbox to validate a config) must stay free of heavy npm packages
 * (tfjs, vega, resvg): they belong to `run.ts`, which only a stage's own subprocess imports. This
 * keeps `bin/pipeline run configs/paper.yaml` on a cached pipeline near Deno's start-up time
 * (measured in `deno task bench engine`), and a cold kind sandbox quick.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const LIGHT = new Set(["commander", "yaml", "zod"]);

/** npm package names in the import graph of `module` (from `deno info --json`). */
async function npmPackages(module: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", module],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const roots = new Set<string>();
  for (const m of info.modules) {
    if (m.kind === "npm" && m.npmPackage) roots.add(m.npmPackage.replace(/^(@?[^@]+)@.*$/, "$1"));
  }
  return [...roots];
}

Deno.test("startup: the CLI and every kind.ts load only commander, yaml and zod", async () => {
  const modules = ["pipeline/cli/main.ts"];
  for await (const e of Deno.readDir(new URL("../stages", import.meta.url))) {
    if (e.isDirectory && e.name !== "lib") {
      const kind = `stages/${e.name}/kind.ts`;
      if (await Deno.stat(new URL(`../${kind}`, import.meta.url)).catch(() => undefined)) {
        modules.push(kind);
      }
    }
  }
  assert.ok(modules.length >= 7, modules.join(", "));
  for (const m of modules) {
    const heavy = (await npmPackages(m)).filter((p) => !LIGHT.has(p));
    assert.deepEqual(heavy, [], `${m} loads ${heavy.join(", ")}`);
  }
});
