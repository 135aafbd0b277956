/**
 * Where an npm package's own files (wasm binaries, …) are: `node_modules/<name>/` beside the
 * project's `deno.json` (`nodeModulesDir: auto`). Computed, not resolved through
 * `require.resolve`, which probes every ancestor's `node_modules` and so needs read access
 * outside what a stage is granted.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The absolute directory of npm package `name`, with a trailing slash. */
export function npmPackageDir(name: string): string {
  return fileURLToPath(new URL(`../../node_modules/${name}/`, import.meta.url));
}
