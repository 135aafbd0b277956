/**
 * `deno task bench [area ...]`: runs each benchmark script `bench/<area>_bench.ts` one after the
 * other in its own Deno process (so they do not share a heap or compete for the 2 cores), then
 * prints every summary each wrote to `artifacts/bench/<area>.json`.
 *
 * @module
 */
const benchDir = new URL(".", import.meta.url);
const root = new URL("..", benchDir);

/** Bench areas found beside this file, in a fixed order. */
function discoverAreas(): string[] {
  return [...Deno.readDirSync(benchDir)]
    .map((entry) => /^(.*)_bench\.ts$/.exec(entry.name)?.[1])
    .filter((area): area is string => area !== undefined)
    .sort();
}

const available = discoverAreas();
const requested = Deno.args.length > 0 ? Deno.args : available;
for (const area of requested) {
  if (!available.includes(area)) {
    console.error(`bench: unknown area "${area}"; available: ${available.join(", ")}`);
    Deno.exit(2);
  }
}

let failures = 0;
for (const area of requested) {
  console.log(`\n=== bench ${area} ===`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`${area}_bench.ts`, benchDir).pathname],
    cwd: root.pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`bench ${area} failed with exit code ${code}`);
    failures++;
  }
}

console.log("\n=== summary (artifacts/bench/*.json) ===");
for (const area of requested) {
  const path = new URL(`artifacts/bench/${area}.json`, root);
  try {
    console.log(`${area}: ${Deno.readTextFileSync(path).trim()}`);
  } catch {
    console.log(`${area}: no summary written`);
  }
}
Deno.exit(failures > 0 ? 1 : 0);
