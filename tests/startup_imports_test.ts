/**
 * What a no-op `run` loads: the CLI's static import graph (a command's dynamic `import()` loads
 * only when it runs) and every stage kind's `kind.ts` (imported by the kind sandbox to validate a
 * config) must stay free of heavy npm packages (tfjs, vega, resvg): they belong to `run.ts`, which
 * only a stage's own subprocess imports. This keeps `bin/pipeline run configs/paper.yaml` on a
 * cached pipeline near Deno's start-up time (measured in `deno task bench engine`), and a cold
 * kind sandbox quick.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const LIGHT = new Set(["commander", "yaml", "zod"]);

/** One module of `deno info --json`. */
interface InfoModule {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/**
 * npm package names in the static import graph of `module` (from `deno info --json`): edges
 * of dynamic `import()`s, which load only when a command needs them, are not followed.
 */
async function npmPackages(module: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", module],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const roots = new Set<string>();
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = info.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    const m = bySpecifier.get(resolved);
    if (!m) return;
    if (m.kind === "npm" && m.npmPackage) roots.add(m.npmPackage.replace(/^(@?[^@]+)@.*$/, "$1"));
    for (const d of m.dependencies ?? []) if (d.code && !d.isDynamic) visit(d.code.specifier);
  };
  info.roots.forEach(visit);
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
    const packages = await npmPackages(m);
    if (m === "pipeline/cli/main.ts") assert.ok(packages.includes("commander"), packages.join());
    const heavy = packages.filter((p) => !LIGHT.has(p));
    assert.deepEqual(heavy, [], `${m} loads ${heavy.join(", ")}`);
  }
});

Deno.test("startup: the CLI's static imports leave out yaml (CommonJS, ~30 ms to load), which it loads to parse a config not kept", async () => {
  const packages = await npmPackages("pipeline/cli/main.ts");
  assert.ok(!packages.includes("yaml"), packages.join());
});
