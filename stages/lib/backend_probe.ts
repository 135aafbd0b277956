/**
 * Resolves a requested tfjs backend (`auto`, `blas`, `wasm`, `cpu`) to the one this machine will
 * run, without importing tfjs: `auto` means `blas` when OpenBLAS loads, else `wasm` with a
 * one-line notice. The engine's runtime probe (`pipeline/permissions/runtime_facts.ts`) resolves a
 * kind's `runtime()` request with it, so the backend, the BLAS library and its thread count enter
 * the cache key and the manifest; a stage process opens the library the engine resolved.
 *
 * @module
 */
import { BlasUnavailableError, openBlas } from "./blas/openblas.ts";

/** What a config may ask for. */
export type BackendRequest = "auto" | "blas" | "wasm" | "cpu";

/** BLAS threads used unless told otherwise: fixed, so runs split their work the same way. */
export const DEFAULT_BLAS_THREADS = 2;

/** The resolved backend. */
export interface BackendProbe {
  /** The backend that will run. */
  backend: "blas" | "wasm" | "cpu";
  /** For `blas`: the library path and its `openblas_get_config()` string. */
  library?: string;
  /** For `blas`: the path or soname the library was opened by (open it again by this). */
  path?: string;
  /** For `blas`: the fixed BLAS thread count. */
  threads?: number;
  /** For `auto` falling back to wasm: why BLAS is not used (one line). */
  notice?: string;
}

/** Options of {@link probeBackend}. */
export interface ProbeOptions {
  /** An explicit library path instead of the OS's usual OpenBLAS locations. */
  library?: string;
  /**
   * BLAS thread count (default: {@link BLAS_THREADS_VARIABLE} where the engine set it, else
   * {@link DEFAULT_BLAS_THREADS}).
   */
  threads?: number;
}

/**
 * Resolves `requested`. `blas` throws a clear error when no OpenBLAS loads; `auto` falls back to
 * `wasm` with a notice instead; `wasm` and `cpu` are returned as they are.
 */
export function probeBackend(requested: BackendRequest, options: ProbeOptions = {}): BackendProbe {
  if (requested === "wasm" || requested === "cpu") return { backend: requested };
  if (requested !== "auto" && requested !== "blas") {
    throw new Error(`unknown backend '${requested}': use auto, blas, wasm or cpu`);
  }
  const threads = options.threads ?? grantedThreads() ?? DEFAULT_BLAS_THREADS;
  try {
    const granted = options.library ? undefined : grantedLibrary();
    const blas = openBlas({ library: options.library ?? granted, threads });
    // A stage process opens the library its runtime resolved (already described there) and
    // cannot read the config string: reading a C string needs unscoped FFI.
    if (granted) return { backend: "blas", library: granted, path: granted, threads: blas.threads };
    const path = absoluteLibraryPath(blas.path);
    const library = `${path} (${blas.config})`;
    return { backend: "blas", library, path: blas.path, threads: blas.threads };
  } catch (error) {
    if (requested === "blas" || !(error instanceof BlasUnavailableError)) throw error;
    return { backend: "wasm", notice: `backend auto: using wasm, ${error.message}` };
  }
}

/**
 * The environment variable through which the engine tells a stage which library its runtime
 * resolved: the only one its `--allow-ffi` names, so the stage opens exactly that one.
 */
export const BLAS_LIBRARY_VARIABLE = "PIPELINE_BLAS_LIBRARY";

/**
 * The environment variable the engine sets to a stage's BLAS thread count (its `resources.cpus`,
 * keyed as the runtime fact `blas_threads`).
 */
export const BLAS_THREADS_VARIABLE = "PIPELINE_BLAS_THREADS";

/** The thread count named by {@link BLAS_THREADS_VARIABLE}, when set and readable. */
function grantedThreads(): number | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: BLAS_THREADS_VARIABLE });
  if (state.state !== "granted") return undefined;
  const value = Deno.env.get(BLAS_THREADS_VARIABLE);
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new Error(
      `${BLAS_THREADS_VARIABLE}=${value}: the BLAS thread count must be an integer >= 1`,
    );
  }
  return Number(value);
}

/** The library named by {@link BLAS_LIBRARY_VARIABLE}, when set and readable. */
function grantedLibrary(): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: BLAS_LIBRARY_VARIABLE });
  return state.state === "granted" ? Deno.env.get(BLAS_LIBRARY_VARIABLE) : undefined;
}

/**
 * The file a library opened by soname (e.g. `libopenblas.so.0`) resolves to, so that a stage's
 * FFI grant can name an absolute path: the first directory of the dynamic loader's search
 * (`LD_LIBRARY_PATH`, the dirs listed in `/etc/ld.so.conf.d/*.conf`, then `/lib`, `/usr/lib`)
 * that holds it, with symlinks resolved. Paths already absolute, other systems, and sonames not
 * found there are returned as they are.
 */
function absoluteLibraryPath(path: string): string {
  if (path.startsWith("/") || Deno.build.os !== "linux") return path;
  for (const dir of loaderSearchDirs()) {
    try {
      return Deno.realPathSync(`${dir}/${path}`);
    } catch { /* not in this dir */ }
  }
  return path;
}

/** The dirs the Linux dynamic loader searches, in its order (without its binary cache). */
function loaderSearchDirs(): string[] {
  const dirs = (Deno.env.get("LD_LIBRARY_PATH") ?? "").split(":").filter(Boolean);
  try {
    const confs = [...Deno.readDirSync("/etc/ld.so.conf.d")].map((e) => e.name)
      .filter((n) => n.endsWith(".conf")).sort();
    for (const conf of confs) {
      const text = Deno.readTextFileSync(`/etc/ld.so.conf.d/${conf}`);
      dirs.push(...text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("/")));
    }
  } catch { /* no ld.so.conf.d */ }
  return [...dirs, "/lib", "/usr/lib"];
}

/** The absolute library path of a `runtime()` map's `blas_library` ("<path> (<config>)"). */
export function runtimeLibraryPath(runtime: Record<string, string>): string | undefined {
  return runtime.blas_library?.split(" (")[0];
}

/** The probe as the string map a stage kind's `runtime()` returns (cache key and manifest). */
export function backendRuntime(probe: BackendProbe): Record<string, string> {
  const runtime: Record<string, string> = { backend: probe.backend };
  if (probe.library !== undefined) runtime.blas_library = probe.library;
  if (probe.threads !== undefined) runtime.blas_threads = String(probe.threads);
  return runtime;
}
