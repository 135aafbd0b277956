/**
 * The HTTP remote cache against real servers on loopback: Debian's nginx (WebDAV) for the
 * protocol, tiny Deno.serve servers for misbehaviour nginx will not produce (stalls, 5xx),
 * and a port nothing listens on. Skipped with a notice when nginx is not installed, unless
 * CI=true, where that is a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HttpRemote, type HttpRemoteOptions } from "../pipeline/store/remote/http_remote.ts";
import type { RemoteRecord } from "../pipeline/store/remote/record.ts";
import {
  isRemoteUnavailable,
  RemoteDigestMismatchError,
  RemoteHttpError,
  RemoteMissingBlobsError,
  RemoteTimeoutError,
  RemoteUnreachableError,
} from "../pipeline/store/remote/errors.ts";
import { Rng } from "../stages/lib/prng.ts";
import { sha256File, sha256Hex } from "../common/sha256.ts";
import { freePort, nginxGate, type NginxServer, startNginx } from "./fixtures/nginx/server.ts";

const gate = await nginxGate("remote_cache_test");
const ignoreNginx = gate.ignore;

/** A remote with short timeouts, collecting its warnings. */
function remoteAt(url: string, options: Partial<HttpRemoteOptions> = {}) {
  const warnings: string[] = [];
  const remote = new HttpRemote({
    url,
    timeoutMs: 5_000,
    backoffMs: 10,
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  return { remote, warnings };
}

/** Runs `body` with nginx and a scratch dir; stops and removes both after. */
async function withNginx(body: (server: NginxServer, scratch: string) => Promise<void>) {
  gate.require();
  const server = await startNginx();
  const scratch = await Deno.makeTempDir({ prefix: "remote-test-" });
  try {
    await body(server, scratch);
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

/** Writes `size` seeded pseudo-random bytes to a file in `dir`; returns its path and sha256. */
async function blobFile(dir: string, options: { size: number; seed: number }) {
  const rng = new Rng(options.seed);
  const bytes = new Uint8Array(options.size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(0, 255);
  const digest = sha256Hex(bytes);
  const path = join(dir, `blob-${options.seed}`);
  await Deno.writeFile(path, bytes);
  return { path, digest, bytes };
}

/** A record of `key` with the given outputs and a manifest naming `host`. */
function recordOf(key: string, outputs: Record<string, string>, host = "test"): RemoteRecord {
  return {
    format: "pipeline-remote-record/1",
    key,
    outputs,
    metrics: { mse: 1.5 },
    manifest: { status: "ok", stage: "train", key, outputs, host },
  };
}

/** The names of the files in `dir`. */
async function fileNames(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/**
 * The matches of `pattern` (global) in nginx's access log once there are `count` of them:
 * nginx logs a request just after answering it, so the log may trail the client a little.
 */
async function accessLog(server: NginxServer, options: { pattern: RegExp; count: number }) {
  const path = join(server.root, "..", "access.log");
  for (let waited = 0;; waited += 20) {
    const matches = [...(await Deno.readTextFile(path)).matchAll(options.pattern)];
    if (matches.length >= options.count || waited > 5_000) return matches;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const KEY = sha256Hex(new TextEncoder().encode("a cache key"));

Deno.test({
  name: "remote cache: a blob uploaded from a file downloads byte-identical, verified",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server, scratch) => {
      const { remote } = remoteAt(server.url);
      const blob = await blobFile(scratch, { size: 3 << 20, seed: 1 });
      assert.equal(await remote.hasBlob(blob.digest), false);
      assert.equal(await remote.getBlob(blob.digest, { dir: scratch }), undefined);
      await remote.putBlob(blob.digest, blob.path);
      assert.equal(await remote.hasBlob(blob.digest), true);
      assert.deepEqual(await Deno.readFile(join(server.root, "cas", blob.digest)), blob.bytes);
      const incoming = join(scratch, "incoming");
      const got = await remote.getBlob(blob.digest, { dir: incoming });
      assert.ok(got?.startsWith(incoming), `${got} should be in ${incoming}`);
      assert.equal(await sha256File(got!), blob.digest);
      assert.deepEqual(await fileNames(incoming), [got!.slice(incoming.length + 1)]);
    }),
});

Deno.test({
  name: "remote cache: a blob tampered with on the server is rejected and nothing is kept",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server, scratch) => {
      const { remote } = remoteAt(server.url);
      const blob = await blobFile(scratch, { size: 200_000, seed: 2 });
      await remote.putBlob(blob.digest, blob.path);
      const tampered = blob.bytes.slice();
      tampered[100_000] ^= 1;
      await Deno.writeFile(join(server.root, "cas", blob.digest), tampered);
      const incoming = join(scratch, "incoming");
      const error = await remote.getBlob(blob.digest, { dir: incoming }).catch((e) => e);
      assert.ok(error instanceof RemoteDigestMismatchError, String(error));
      assert.equal(error.url, `${server.url}/cas/${blob.digest}`);
      assert.equal(error.expected, blob.digest);
      assert.equal(error.actual, sha256Hex(tampered));
      assert.ok(error.message.includes(error.url) && error.message.includes(error.actual));
      assert.equal(isRemoteUnavailable(error), false);
      assert.deepEqual(await fileNames(incoming), []);
    }),
});

Deno.test({
  name: "remote cache: push uploads the blobs first and the record last; lookup then hits",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server, scratch) => {
      const { remote, warnings } = remoteAt(server.url);
      const model = await blobFile(scratch, { size: 1 << 20, seed: 3 });
      const metrics = await blobFile(scratch, { size: 100, seed: 4 });
      const paths = new Map([[model.digest, model.path], [metrics.digest, metrics.path]]);
      const record = recordOf(KEY, {
        "model.safetensors": model.digest,
        "metrics.json": metrics.digest,
      });
      assert.deepEqual(await remote.lookup(KEY), {
        hit: false,
        reason: `no valid record at ${server.url}/ac/${KEY}`,
      });
      const pushed = await remote.push(record, { blobPath: (d) => paths.get(d)! });
      assert.deepEqual(pushed.uploaded, [model.digest, metrics.digest]);
      assert.deepEqual(await remote.lookup(KEY), { hit: true, record });
      // The second push finds the blobs there and uploads none.
      assert.deepEqual(
        (await remote.push(record, { blobPath: () => "/nonexistent" })).uploaded,
        [],
      );
      const puts = await accessLog(server, {
        pattern: /"PUT \/(cas|ac)\/[0-9a-f]{64} /g,
        count: 4,
      });
      assert.deepEqual(puts.map((m) => m[1]), ["cas", "cas", "ac", "ac"]);
      assert.deepEqual(warnings, []);
    }),
});

Deno.test({
  name:
    "remote cache: a record whose blobs are missing is a miss naming them, and is never written",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server, scratch) => {
      const { remote, warnings } = remoteAt(server.url);
      const present = await blobFile(scratch, { size: 1000, seed: 5 });
      const absent = sha256Hex(new TextEncoder().encode("never uploaded"));
      await remote.putBlob(present.digest, present.path);
      const record = recordOf(KEY, { "a.bin": present.digest, "b.bin": absent });
      const refused = await remote.putRecord(record).catch((e) => e);
      assert.ok(refused instanceof RemoteMissingBlobsError, String(refused));
      assert.deepEqual(refused.missing, [absent]);
      assert.match(refused.message, new RegExp(`ac/${KEY}: 1 of its blobs .*${absent}`));
      assert.equal((await fetch(`${server.url}/ac/${KEY}`, { method: "HEAD" })).status, 404);
      // Written behind the remote's back (another client, a partial cleanup on the server):
      await fetch(`${server.url}/ac/${KEY}`, { method: "PUT", body: JSON.stringify(record) })
        .then((r) => r.body?.cancel());
      const found = await remote.lookup(KEY);
      assert.equal(found.hit, false);
      assert.ok(!found.hit && found.missing?.length === 1 && found.missing[0] === absent);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0].includes(`${server.url}/ac/${KEY}`));
      assert.ok(warnings[0].includes(`${server.url}/cas/${absent}`));
    }),
});

Deno.test({
  name: "remote cache: a malformed record is a miss with a warning naming its URL",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server) => {
      const { remote, warnings } = remoteAt(server.url);
      const otherKey = sha256Hex(new TextEncoder().encode("another key"));
      const bodies = [
        "{ not json",
        JSON.stringify({ ...recordOf(KEY, {}), outputs: { "../escape": KEY } }),
        JSON.stringify(recordOf(otherKey, {})),
      ];
      for (const body of bodies) {
        await fetch(`${server.url}/ac/${KEY}`, { method: "PUT", body }).then((r) =>
          r.body?.cancel()
        );
        assert.equal(await remote.getRecord(KEY), undefined);
      }
      const url = `${server.url}/ac/${KEY}`;
      assert.equal(warnings.length, 3);
      assert.match(warnings[0], new RegExp(`malformed record ${url}: not JSON`));
      assert.ok(
        warnings[1].endsWith(
          `${url}: outputs["../escape"]: output name must be a relative path without '..'`,
        ),
        warnings[1],
      );
      assert.match(warnings[2], new RegExp(`${url}: key: found ${otherKey}; expected ${KEY}`));
    }),
});

Deno.test({
  name: "remote cache: an upload cut off mid-body leaves nothing at its URL",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server) => {
      const digest = sha256Hex(new TextEncoder().encode("cut off"));
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      const head = `PUT /cas/${digest} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Content-Length: 100000\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head));
      await conn.write(new Uint8Array(40_000).fill(7));
      conn.close();
      // nginx notices the closed connection, drops the partial body and logs the request.
      const pattern = new RegExp(`"PUT /cas/${digest} HTTP/1.1" (\\d+)`, "g");
      const logged = await accessLog(server, { pattern, count: 1 });
      assert.equal(logged[0]?.[1], "400");
      const { remote } = remoteAt(server.url);
      assert.equal(await remote.hasBlob(digest), false);
      assert.deepEqual(await fileNames(server.root), []);
      assert.deepEqual(await fileNames(join(server.root, "..", "client_body")), []);
    }),
});

Deno.test({
  name: "remote cache: two concurrent pushes of the same key leave one consistent, valid record",
  ignore: ignoreNginx,
  fn: () =>
    withNginx(async (server, scratch) => {
      const blob = await blobFile(scratch, { size: 2 << 20, seed: 6 });
      const records = ["host-a", "host-b"].map((host) =>
        recordOf(KEY, { "model.safetensors": blob.digest }, host)
      );
      const pushers = records.map(() => remoteAt(server.url));
      await Promise.all(
        pushers.map(({ remote }, i) => remote.push(records[i], { blobPath: () => blob.path })),
      );
      const { remote, warnings } = remoteAt(server.url);
      const found = await remote.lookup(KEY);
      assert.ok(found.hit, JSON.stringify(found));
      assert.ok(records.some((r) => JSON.stringify(r) === JSON.stringify(found.record)));
      assert.equal(await sha256File(join(server.root, "cas", blob.digest)), blob.digest);
      assert.deepEqual(warnings, []);
    }),
});

Deno.test("remote cache: nothing listening on the port is a quick RemoteUnreachableError", async () => {
  const url = `http://127.0.0.1:${freePort()}`;
  const { remote } = remoteAt(url);
  const started = performance.now();
  const error = await remote.getRecord(KEY).catch((e) => e);
  const elapsedMs = performance.now() - started;
  assert.ok(error instanceof RemoteUnreachableError, String(error));
  assert.equal(error.url, `${url}/ac/${KEY}`);
  assert.match(error.message, new RegExp(`unreachable: ${error.url}: .*refused`, "i"));
  assert.ok(isRemoteUnavailable(error));
  assert.ok(elapsedMs < 2_000, `took ${elapsedMs} ms`);
});

/** A loopback server answering every request with `answer`; counts the requests. */
async function withServer(
  answer: (request: Request) => Response | Promise<Response>,
  body: (url: string, requests: () => number) => Promise<void>,
) {
  let count = 0;
  const stalled = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    count++;
    return Promise.race([
      answer(request),
      new Promise<Response>((resolve) =>
        stalled.signal.addEventListener("abort", () => resolve(new Response("late")))
      ),
    ]);
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, () => count);
  } finally {
    stalled.abort();
    await server.shutdown();
  }
}

Deno.test("remote cache: a server that never answers is a RemoteTimeoutError naming the URL", async () => {
  await withServer(() => new Promise<Response>(() => {}), async (url) => {
    const { remote } = remoteAt(url, { timeoutMs: 300 });
    const started = performance.now();
    const error = await remote.getRecord(KEY).catch((e) => e);
    const elapsedMs = performance.now() - started;
    assert.ok(error instanceof RemoteTimeoutError, String(error));
    assert.equal(
      error.message,
      `remote cache timed out: ${url}/ac/${KEY}: no complete answer within 300 ms`,
    );
    assert.ok(isRemoteUnavailable(error));
    assert.ok(elapsedMs < 3_000, `took ${elapsedMs} ms`);
  });
});

Deno.test("remote cache: a blob body that stalls midway times out and leaves no temp file", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "remote-test-" });
  const release: (() => void)[] = [];
  try {
    const stall = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new Uint8Array(1000));
            release.push(() => {
              try {
                controller.close();
              } catch { /* the client gave up and cancelled the body */ }
            });
          },
        }),
        { headers: { "content-length": "5000" } },
      );
    await withServer(stall, async (url) => {
      const { remote } = remoteAt(url, { timeoutMs: 300 });
      const error = await remote.getBlob(KEY, { dir: scratch }).catch((e) => e);
      assert.ok(error instanceof RemoteTimeoutError, String(error));
      assert.equal(error.url, `${url}/cas/${KEY}`);
      assert.deepEqual(await fileNames(scratch), []);
      release.forEach((close) => close());
    });
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("remote cache: 5xx is retried then reported with its status; 4xx is not retried", async () => {
  const retries: string[] = [];
  await withServer(
    () => new Response("down for maintenance", { status: 503 }),
    async (url, requests) => {
      const { remote } = remoteAt(url, { retries: 2, onRetry: (reason) => retries.push(reason) });
      const error = await remote.hasBlob(KEY).catch((e) => e);
      assert.ok(error instanceof RemoteHttpError, String(error));
      assert.equal(error.status, 503);
      assert.match(
        error.message,
        new RegExp(`HEAD ${url}/cas/${KEY}: HTTP 503 .*\\(3 attempts\\)`),
      );
      assert.equal(requests(), 3);
      assert.equal(retries.length, 2);
      assert.ok(isRemoteUnavailable(error));
    },
  );
  await withServer(() => new Response("no", { status: 403 }), async (url, requests) => {
    const { remote } = remoteAt(url, { retries: 2 });
    const error = await remote.getRecord(KEY).catch((e) => e);
    assert.ok(error instanceof RemoteHttpError, String(error));
    assert.equal(error.status, 403);
    assert.match(error.message, /HTTP 403 Forbidden; does the server allow PUT/);
    assert.equal(requests(), 1);
    assert.equal(isRemoteUnavailable(error), false);
  });
});
