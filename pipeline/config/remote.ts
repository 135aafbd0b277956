/**
 * Which remote cache a command uses: `remote: { url, push }` in a config, `PIPELINE_REMOTE`
 * (with `PIPELINE_REMOTE_PUSH`) in the environment, `--remote URL` / `--no-remote` /
 * `--no-push` on the command line; the command line wins, then the environment, then the
 * config. None of it enters a cache key: where a result is kept does not change what it is.
 *
 * @module
 */

/** A remote cache to use. */
export interface RemoteSettings {
  /** Base URL (http or https); blobs live at `{url}/cas/`, records at `{url}/ac/`. */
  url: string;
  /** Upload every result computed here (blobs first, the record last). */
  push: boolean;
}

/** The example every error message shows. */
const EXAMPLE = "e.g. remote: { url: http://cache.lab.example:8080/pipeline, push: true }";

/**
 * Checks the value of a config's `remote:` key. `fail(path, problem)` reports a problem at
 * `remote.<path>` (it throws); returns the settings otherwise. `push` defaults to true.
 */
export function parseRemoteSection(
  value: unknown,
  fail: (path: string[], problem: string) => never,
): RemoteSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail([], `found ${JSON.stringify(value)}; expected a map with url (and push), ${EXAMPLE}`);
  }
  const section = value as Record<string, unknown>;
  for (const key of Object.keys(section)) {
    if (key !== "url" && key !== "push") {
      fail([key], `unknown key "${key}"; expected one of: url, push`);
    }
  }
  const url = section.url;
  if (typeof url !== "string" || !isHttpUrl(url)) {
    fail(["url"], `found ${JSON.stringify(url)}; expected an http:// or https:// URL, ${EXAMPLE}`);
  }
  const push = section.push ?? true;
  if (typeof push !== "boolean") {
    fail(["push"], `found ${JSON.stringify(push)}; expected true or false`);
  }
  return { url, push };
}

/** What the command line says about the remote (commander's `--remote`/`--no-remote`/`--no-push`). */
export interface RemoteFlags {
  /** A URL from `--remote URL`; false from `--no-remote`; undefined when neither was given. */
  remote?: string | false;
  /** false from `--no-push`. */
  push?: boolean;
}

/** Where the settings in force came from. */
export type RemoteOrigin = "--remote" | "PIPELINE_REMOTE" | "config";

/**
 * The remote in force, if any: `--remote` over `PIPELINE_REMOTE` over the config's `remote:`;
 * `--no-remote` turns it off. `push` comes from `--no-push`, else `PIPELINE_REMOTE_PUSH`
 * (`true`/`false`), else the config, else true. Throws an Error naming the bad value.
 */
export function resolveRemote(options: {
  flags: RemoteFlags;
  env: { get(name: string): string | undefined };
  config?: RemoteSettings;
}): (RemoteSettings & { origin: RemoteOrigin }) | undefined {
  const { flags, env, config } = options;
  if (flags.remote === false) return undefined;
  const fromEnv = env.get("PIPELINE_REMOTE") || undefined;
  const origin: RemoteOrigin | undefined = typeof flags.remote === "string"
    ? "--remote"
    : fromEnv
    ? "PIPELINE_REMOTE"
    : config
    ? "config"
    : undefined;
  if (!origin) return undefined;
  const url = origin === "--remote"
    ? flags.remote as string
    : origin === "PIPELINE_REMOTE"
    ? fromEnv!
    : config!.url;
  if (!isHttpUrl(url)) {
    throw new Error(`${origin}: found ${JSON.stringify(url)}; expected an http:// or https:// URL`);
  }
  return { url, push: resolvePush(flags, env, config), origin };
}

function resolvePush(
  flags: RemoteFlags,
  env: { get(name: string): string | undefined },
  config?: RemoteSettings,
): boolean {
  if (flags.push === false) return false;
  const text = env.get("PIPELINE_REMOTE_PUSH");
  if (text !== undefined && text !== "") {
    if (text !== "true" && text !== "false") {
      throw new Error(
        `PIPELINE_REMOTE_PUSH: found ${JSON.stringify(text)}; expected true or false`,
      );
    }
    return text === "true";
  }
  return config?.push ?? true;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
