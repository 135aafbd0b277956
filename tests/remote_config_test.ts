/**
 * Configuring the remote cache: the `remote:` key of a config (checked with errors naming
 * file, line and key), and which setting wins (`--remote`, then `PIPELINE_REMOTE`, then the
 * config). The cache key never depends on it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadPipeline } from "../pipeline/config/config.ts";
import { resolveRemote } from "../pipeline/config/remote.ts";

const stagesRoot = fileURLToPath(new URL("./fixtures/stages", import.meta.url));
const STAGES = "stages:\n  src: { uses: cfg_source }\n";

/** Loads `text` as a config file in a temp dir. */
async function loadText(text: string) {
  const dir = await Deno.makeTempDir({ prefix: "remote_config_test_" });
  const file = join(dir, "p.yaml");
  await Deno.writeTextFile(file, text);
  try {
    return await loadPipeline(file, { stagesRoot });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An environment holding `vars`. */
function envOf(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

Deno.test("remote config: remote: is read with push defaulting to true, and leaves the digest alone", async () => {
  const plain = await loadText(STAGES);
  const shared = await loadText(`remote: { url: "http://cache.lab:8080/p" }\n${STAGES}`);
  assert.deepEqual(shared.remote, { url: "http://cache.lab:8080/p", push: true });
  assert.equal(shared.digest, plain.digest);
  const reader = await loadText(`remote: { url: "https://cache.lab/p", push: false }\n${STAGES}`);
  assert.deepEqual(reader.remote, { url: "https://cache.lab/p", push: false });
});

Deno.test("remote config: a bad remote: names the file, line, key and what to write", async () => {
  const cases: [string, RegExp][] = [
    [
      `remote: { url: "ftp://x" }`,
      /p\.yaml:1: remote\.url: found "ftp:\/\/x"; expected an http:\/\/ or https:\/\/ URL, e\.g\. remote: \{ url: http:/,
    ],
    [
      `remote: { url: "http://x", push: "yes" }`,
      /p\.yaml:1: remote\.push: found "yes"; expected true or false/,
    ],
    [
      `remote: { url: "http://x", pull: true }`,
      /p\.yaml:1: remote\.pull: unknown key "pull"; expected one of: url, push/,
    ],
    [`remote: "http://x"`, /p\.yaml:1: remote: found "http:\/\/x"; expected a map with url/],
  ];
  for (const [line, message] of cases) {
    const error = await loadText(`${line}\n${STAGES}`).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `${line}: expected a ConfigError, got ${error}`);
    assert.match(error.message, message);
  }
});

Deno.test("remote config: --remote wins over PIPELINE_REMOTE, which wins over the config; --no-remote turns it off", () => {
  const config = { url: "http://config:1", push: false };
  const env = envOf({ PIPELINE_REMOTE: "http://env:2" });
  assert.deepEqual(resolveRemote({ flags: { remote: "http://flag:3" }, env, config }), {
    url: "http://flag:3",
    push: false,
    origin: "--remote",
  });
  assert.equal(resolveRemote({ flags: {}, env, config })?.url, "http://env:2");
  assert.equal(resolveRemote({ flags: {}, env: envOf({}), config })?.origin, "config");
  assert.equal(resolveRemote({ flags: { remote: false }, env, config }), undefined);
  assert.equal(resolveRemote({ flags: {}, env: envOf({}) }), undefined);
});

Deno.test("remote config: push comes from --no-push, then PIPELINE_REMOTE_PUSH, then the config, else true", () => {
  const flags = { remote: "http://flag:3" };
  assert.equal(resolveRemote({ flags, env: envOf({}) })?.push, true);
  const config = { url: "http://config:1", push: false };
  assert.equal(resolveRemote({ flags, env: envOf({}), config })?.push, false);
  const envPush = envOf({ PIPELINE_REMOTE_PUSH: "true" });
  assert.equal(resolveRemote({ flags, env: envPush, config })?.push, true);
  assert.equal(resolveRemote({ flags: { ...flags, push: false }, env: envPush })?.push, false);
  assert.throws(
    () => resolveRemote({ flags, env: envOf({ PIPELINE_REMOTE_PUSH: "1" }) }),
    /PIPELINE_REMOTE_PUSH: found "1"; expected true or false/,
  );
  assert.throws(
    () => resolveRemote({ flags: {}, env: envOf({ PIPELINE_REMOTE: "cache:8080" }) }),
    /PIPELINE_REMOTE: found "cache:8080"; expected an http:\/\/ or https:\/\/ URL/,
  );
});
