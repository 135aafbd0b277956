/**
 * The engine's own runtime probes: what a kind's `runtime()` request (plain data from the kind
 * sandbox) resolves to on this machine, and the permissions those facts imply. Kinds never
 * probe the machine themselves: finding the BLAS kernel needs unscoped FFI (its config string is
 * a C string), which only the engine has.
 *
 * @module
 */
import type { RuntimeRequest, StagePermissions } from "../stage_kind.ts";
import {
  backendRuntime,
  BLAS_LIBRARY_VARIABLE,
  BLAS_THREADS_VARIABLE,
  probeBackend,
  runtimeLibraryPath,
} from "../../stages/lib/backend_probe.ts";
import type { PolicyViolation, StageAllow } from "./policy.ts";

/**
 * The runtime map of a request for a stage granted `cpus` cores: for `tfjs`, `backend` (and
 * `blas_library`, `blas_threads` = `cpus`), for `env`, each setting's variable as the engine's
 * environment has it (unset: `""`).
 */
export function resolveRuntime(
  request: RuntimeRequest,
  { cpus }: { cpus: number },
): Record<string, string> {
  const runtime: Record<string, string> = {};
  if (request.tfjs !== undefined) {
    Object.assign(runtime, backendRuntime(probeBackend(request.tfjs, { threads: cpus })));
  }
  for (const [setting, variable] of Object.entries(request.env ?? {})) {
    runtime[setting] = Deno.env.get(variable) ?? "";
  }
  return runtime;
}

/**
 * The `env` variables of a request that the stage's `allow.env` does not name: the kind would
 * learn (and key, and record) values of the engine's environment the user did not pass on.
 */
export function runtimeViolations(request: RuntimeRequest, allow?: StageAllow): PolicyViolation[] {
  return Object.values(request.env ?? {})
    .filter((variable) => !(allow?.env ?? []).includes(variable))
    .map((variable) => ({
      key: "allow.env",
      asked: `the engine's environment variable ${variable} as a runtime fact`,
      fix: `allow: {env: [${JSON.stringify(variable)}]}`,
    }));
}

/**
 * glibc's malloc tunables for BLAS stages: blocks up to 32 MiB come from the heap instead of
 * fresh `mmap` pages (each new product output would otherwise fault in all its pages again,
 * ~1 ms per `tf.matMul` in a VM), and twice that is kept before trimming, as glibc's own
 * adjustment does. Set through the environment, so no stage needs to call into libc.
 */
const MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864";

/**
 * OpenBLAS settings passed on from the engine's environment when set there: they choose the
 * kernels (`OPENBLAS_CORETYPE`, `OPENBLAS_L2_SIZE`) and so the bits, and the engine's probe
 * (whose config string is in the cache key) saw them too. Idle workers sleep after 2^4
 * cycles unless `OPENBLAS_THREAD_TIMEOUT` says otherwise (see `stages/lib/blas/openblas.ts`).
 */
const OPENBLAS_SETTINGS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_THREAD_TIMEOUT"];
const OPENBLAS_THREAD_TIMEOUT = "4";

/** The {@link OPENBLAS_SETTINGS} set in the engine's environment. */
function openBlasSettings(): Record<string, string> {
  const set = OPENBLAS_SETTINGS.flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value] as const];
  });
  return Object.fromEntries(set);
}

/**
 * What resolved runtime facts imply a stage needs: with a `blas` backend, FFI of exactly the
 * library the probe resolved, its thread count, and the environment that library and glibc read
 * at start-up.
 */
export function runtimePermissions(runtime: Record<string, string>): StagePermissions {
  const library = runtime.backend === "blas" ? runtimeLibraryPath(runtime) : undefined;
  if (!library) return {};
  return {
    ffi: [library],
    env: {
      [BLAS_LIBRARY_VARIABLE]: library,
      ...(runtime.blas_threads ? { [BLAS_THREADS_VARIABLE]: runtime.blas_threads } : {}),
      GLIBC_TUNABLES: MALLOC_TUNABLES,
      OPENBLAS_THREAD_TIMEOUT,
      ...openBlasSettings(),
    },
  };
}
