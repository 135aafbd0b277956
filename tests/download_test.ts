/**
 * Tests of the `download` stage kind: idx parsing, every rejection, source fall-through, the
 * HTTP path against a real loopback server, the params schema, and (when the Debian package is
 * installed) a real download from the local mirror.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEBIAN_MIRROR, FASHION_MNIST } from "../stages/download/fashion_mnist.ts";
import { parseImages, parseLabels, PIXELS } from "../stages/download/idx.ts";
import { kind } from "../stages/download/kind.ts";
import { obtainDataset, type ObtainOptions } from "../stages/download/obtain.ts";
import { run } from "../stages/download/run.ts";
import { sha256File } from "../common/sha256.ts";
import { stageContext } from "./fixtures/report/context.ts";
import {
  encodeIdx,
  encodeImages,
  encodeLabels,
  gzip,
  makeDataset,
  withDigests,
  writeMirror,
} from "./fixtures/data/idx_fixtures.ts";

const TRAIN_IMAGES = "train-images-idx3-ubyte";
const TRAIN_LABELS = "train-labels-idx1-ubyte";
const hasRealData = await Deno.stat(DEBIAN_MIRROR).then(() => true, () => false);

/** Options for `obtainDataset` with fixture digests, fast retries and collected logs. */
function options(sources: string[], files = makeDataset(20, 10).files, logs: string[] = []) {
  return {
    sources,
    files,
    timeoutMs: 300,
    retries: 1,
    backoffMs: 10,
    log: (message: string) => logs.push(message),
    progress: () => {},
  } satisfies ObtainOptions;
}

/** Runs `body` with a fresh temp dir, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "download-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Builds a mirror from a fixture dataset where `name` is replaced by `bad` (raw file bytes,
 * written as `<name>.gz` as they are), and expects obtaining to fail with `pattern`.
 */
async function expectRejected(name: string, bad: Uint8Array, pattern: RegExp): Promise<void> {
  await withTempDir(async (dir) => {
    const dataset = makeDataset(20, 10);
    await writeMirror(dir, dataset.bytes);
    await Deno.writeFile(join(dir, `${name}.gz`), bad);
    await assert.rejects(obtainDataset(options([dir], dataset.files)), pattern);
  });
}

Deno.test("idx: parses images and labels written by the fixture encoder", () => {
  const pixels = Uint8Array.from({ length: 3 * PIXELS }, (_, i) => i % 256);
  const images = parseImages(encodeImages(pixels), "x");
  assert.equal(images.count, 3);
  assert.deepEqual(images.pixels, pixels);
  assert.deepEqual(parseLabels(encodeLabels(Uint8Array.of(0, 9, 4)), "y"), Uint8Array.of(0, 9, 4));
});

Deno.test("download: rejects a file that is not gzip", async () => {
  await expectRejected(
    TRAIN_IMAGES,
    new TextEncoder().encode("<html>not found</html>"),
    /bad gzip/,
  );
});

Deno.test("download: rejects a truncated gzip file", async () => {
  const gz = gzip(makeDataset(20, 10).bytes.get(TRAIN_IMAGES)!);
  await expectRejected(
    TRAIN_IMAGES,
    gz.subarray(0, gz.length >> 1),
    /bad gzip data \(unexpected end of file\)/,
  );
});

Deno.test("download: rejects an idx file truncated before the end of its data", async () => {
  const idx = makeDataset(20, 10).bytes.get(TRAIN_IMAGES)!;
  await expectRejected(
    TRAIN_IMAGES,
    gzip(idx.subarray(0, idx.length - 100)),
    /\(decompressed\): header says shape \[20,28,28\] .* the file is truncated/,
  );
});

Deno.test("download: rejects a wrong idx magic number", async () => {
  // A labels file where the images file should be.
  const labels = encodeLabels(new Uint8Array(20));
  await expectRejected(TRAIN_IMAGES, gzip(labels), /magic number is 2049, expected 2051/);
});

Deno.test("download: rejects images that are not 28×28", async () => {
  const images = encodeIdx(2051, [20, 27, 28], new Uint8Array(20 * 27 * 28));
  await expectRejected(TRAIN_IMAGES, gzip(images), /27×28, expected 28×28/);
});

Deno.test("download: rejects a label of 10 or more", async () => {
  const labels = Uint8Array.from({ length: 20 }, (_, i) => (i === 7 ? 12 : 0));
  await expectRejected(TRAIN_LABELS, gzip(encodeLabels(labels)), /label 12 at index 7/);
});

Deno.test("download: rejects a label count that differs from the image count", async () => {
  await withTempDir(async (dir) => {
    const dataset = makeDataset(20, 10);
    dataset.bytes.set(TRAIN_LABELS, encodeLabels(new Uint8Array(19)));
    await writeMirror(dir, dataset.bytes);
    await assert.rejects(
      obtainDataset(options([dir], withDigests(dataset.bytes))),
      /train-images-idx3-ubyte holds 20 images but train-labels-idx1-ubyte holds 19 labels/,
    );
  });
});

Deno.test("download: rejects a digest mismatch and writes no output", async () => {
  await withTempDir(async (dir) => {
    await writeMirror(dir, makeDataset(20, 10).bytes); // well-formed, but not Fashion-MNIST
    const ctx = await stageContext(kind, { sources: [dir] }, {});
    try {
      await assert.rejects(
        run(ctx),
        /sha256 of the decompressed train-images-idx3-ubyte is [0-9a-f]{64}, expected c59f468a/,
      );
      assert.deepEqual([...Deno.readDirSync(ctx.outDir)], []);
    } finally {
      await ctx.cleanup();
    }
  });
});

Deno.test("download: falls through the sources in order and uses the first intact one", async () => {
  await withTempDir(async (root) => {
    const dataset = makeDataset(20, 10);
    const broken = await writeMirror(join(root, "broken"), dataset.bytes);
    await Deno.writeFile(join(broken, `${TRAIN_IMAGES}.gz`), Uint8Array.of(1, 2, 3));
    const plain = await writeMirror(join(root, "plain"), dataset.bytes, false);
    const later = await writeMirror(join(root, "later"), dataset.bytes);
    const logs: string[] = [];
    const missing = join(root, "missing");
    const data = await obtainDataset(options([missing, broken, plain, later], dataset.files, logs));
    for (const [name, bytes] of dataset.bytes) assert.deepEqual(data.get(name), bytes);
    assert.match(
      logs[0],
      new RegExp(`source directory ${missing} skipped: directory .* does not exist`),
    );
    assert.match(logs[1], /source directory .*broken skipped: .*bad gzip/);
    assert.equal(logs.filter((line) => line.includes("verified")).length, 4);
    assert.ok(logs.filter((line) => line.includes("verified")).every((l) => l.endsWith(plain)));
  });
});

Deno.test("download: when every source fails, the error lists each with its reason and the fix", async () => {
  await withTempDir(async (root) => {
    const wrong = await writeMirror(join(root, "wrong"), makeDataset(20, 10).bytes);
    const missing = join(root, "missing");
    const ctx = await stageContext(kind, { sources: [missing, `file://${wrong}`] }, {});
    try {
      const error = await run(ctx).then(() => undefined, (e: Error) => e);
      assert.ok(error, "run should fail");
      const lines = error.message.split("\n");
      assert.match(lines[0], /could not obtain train-images-idx3-ubyte from any source/);
      assert.match(lines[1], new RegExp(`- directory ${missing}: directory .* does not exist`));
      assert.match(lines[2], new RegExp(`- directory ${wrong}: .*sha256 .* expected`));
      assert.match(lines[3], /apt-get install dataset-fashion-mnist/);
    } finally {
      await ctx.cleanup();
    }
  });
});

/** A loopback server with one behaviour per path prefix; counts the requests per prefix. */
function serveFixtures(dataset: Map<string, Uint8Array>) {
  const requests = new Map<string, number>();
  const hanging: (() => void)[] = [];
  const wrong = makeDataset(20, 10, 99).bytes;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const [, mode, file] = new URL(request.url).pathname.split("/");
    const name = file.replace(/\.gz$/, "");
    const count = (requests.get(mode) ?? 0) + 1;
    requests.set(mode, count);
    const gz = gzip(dataset.get(name)!);
    switch (mode) {
      case "good":
        return new Response(gz);
      case "flaky": // the first request fails with 503, later ones succeed
        return count === 1 ? new Response("busy", { status: 503 }) : new Response(gz);
      case "wrong":
        return new Response(gzip(wrong.get(name)!));
      case "drop": { // sends half the file, then the connection breaks
        const body = new ReadableStream({
          async start(controller) {
            controller.enqueue(gz.subarray(0, gz.length >> 1));
            await new Promise((resolve) => setTimeout(resolve, 20));
            controller.error(new Error("test server: connection dropped on purpose"));
          },
        });
        return new Response(body, { headers: { "content-length": String(gz.length) } });
      }
      case "stall": { // sends half the file, then nothing more (until the test ends)
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(gz.subarray(0, gz.length >> 1));
            hanging.push(() => {
              try {
                controller.close();
              } catch { /* the client gave up and cancelled the body */ }
            });
          },
        });
        return new Response(body, { headers: { "content-length": String(gz.length) } });
      }
      case "hang": // never answers (until the test ends)
        return new Promise<Response>((resolve) => {
          hanging.push(() => resolve(new Response("late")));
        });
      default:
        return new Response("no such file", { status: 404 });
    }
  });
  return {
    base: (mode: string) => `http://127.0.0.1:${server.addr.port}/${mode}`,
    requests,
    async close() {
      hanging.forEach((answer) => answer());
      await server.shutdown();
    },
  };
}

/** Runs `body` against a loopback fixture server. */
async function withServer(
  body: (
    server: ReturnType<typeof serveFixtures>,
    dataset: ReturnType<typeof makeDataset>,
  ) => Promise<void>,
): Promise<void> {
  const dataset = makeDataset(20, 10);
  const server = serveFixtures(dataset.bytes);
  try {
    await body(server, dataset);
  } finally {
    await server.close();
  }
}

Deno.test("download http: a good server delivers every file and reports byte progress", async () => {
  await withServer(async (server, dataset) => {
    const reports: { done: number; total?: number }[] = [];
    const data = await obtainDataset({
      ...options([server.base("good")], dataset.files),
      progress: (p) => reports.push(p),
    });
    for (const [name, bytes] of dataset.bytes) assert.deepEqual(data.get(name), bytes);
    assert.equal(server.requests.get("good"), 4);
    const last = reports.at(-1)!;
    assert.ok(last.total !== undefined && last.done === last.total);
  });
});

Deno.test("download http: a 404 fails at once (no retry) and falls through", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    await obtainDataset(
      options([server.base("missing"), server.base("good")], dataset.files, logs),
    );
    assert.equal(server.requests.get("missing"), 1);
    assert.match(logs[0], /missing skipped: HTTP 404 Not Found$/);
  });
});

Deno.test("download http: a 503 is retried with back-off and then succeeds", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    await obtainDataset(options([server.base("flaky")], dataset.files, logs));
    assert.equal(server.requests.get("flaky"), 5);
    assert.match(logs[0], /HTTP 503 Service Unavailable; retry 1\/1 in 10 ms/);
  });
});

Deno.test("download http: a connection dropped mid-file is retried, then the source is skipped", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    await obtainDataset(options([server.base("drop"), server.base("good")], dataset.files, logs));
    assert.equal(server.requests.get("drop"), 2); // one attempt + one retry, then skipped
    assert.match(logs.find((l) => l.includes("skipped"))!, /drop skipped: .*\(2 attempts\)$/);
  });
});

Deno.test("download http: a server that never answers times out after timeout_ms", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    const start = performance.now();
    await obtainDataset({
      ...options([server.base("hang"), server.base("good")], dataset.files, logs),
      retries: 0,
    });
    const seconds = (performance.now() - start) / 1000;
    assert.match(logs[0], /hang skipped: no data for 300 ms \(timeout_ms\)$/);
    assert.ok(seconds < 5, `fell through after ${seconds} s`);
  });
});

Deno.test("download http: a transfer that stalls mid-file times out and is retried", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    await obtainDataset(options([server.base("stall"), server.base("good")], dataset.files, logs));
    assert.equal(server.requests.get("stall"), 2);
    assert.match(logs[0], /stall.*: no data for 300 ms \(timeout_ms\); retry 1\/1 in 10 ms$/);
    assert.match(logs[1], /stall skipped: no data for 300 ms \(timeout_ms\) \(2 attempts\)$/);
  });
});

Deno.test("download http: wrong bytes fail the digest check and fall through", async () => {
  await withServer(async (server, dataset) => {
    const logs: string[] = [];
    const data = await obtainDataset(
      options([server.base("wrong"), server.base("good")], dataset.files, logs),
    );
    assert.match(logs[0], /wrong skipped: .*sha256 of the decompressed train-images-idx3-ubyte is/);
    assert.deepEqual(data.get(TRAIN_IMAGES), dataset.bytes.get(TRAIN_IMAGES));
  });
});

Deno.test("download kind: schema applies defaults and rejects bad params", () => {
  const params = kind.params.parse({});
  assert.equal(params.sources.at(-1), DEBIAN_MIRROR);
  assert.equal(params.timeout_ms, 15_000);
  for (
    const bad of [
      { sourcez: [] },
      { sources: [] },
      { sources: ["ftp://example.org/data"] },
      { timeout_ms: 0 },
      { retries: -1 },
      { backoff_ms: 1.5 },
    ]
  ) {
    assert.equal(kind.params.safeParse(bad).success, false, JSON.stringify(bad));
  }
  const message = kind.params.safeParse({ sources: ["ftp://x"] }).error!.message;
  assert.match(message, /scheme ftp:\/\/ is not supported/);
});

Deno.test("download kind: permissions grant net only to the hosts of http sources and read for mirrors", () => {
  const local = kind.params.parse({ sources: ["/data/fmnist", "file:///srv/mirror"] });
  assert.deepEqual(kind.permissions!(local), { net: [], read: ["/data/fmnist", "/srv/mirror"] });
  const web = kind.params.parse({});
  assert.deepEqual(kind.permissions!(web), {
    net: [
      "github.com",
      "raw.githubusercontent.com",
      "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    ],
    read: [DEBIAN_MIRROR],
  });
  assert.deepEqual(kind.outputs(web), FASHION_MNIST.map((file) => file.name));
});

Deno.test({
  name: "download real data: the Debian mirror passes verification after a failing web source",
  ignore: !hasRealData,
  async fn() {
    await withServer(async (server) => {
      const ctx = await stageContext(
        kind,
        { sources: [server.base("missing"), DEBIAN_MIRROR] },
        {},
      );
      try {
        await run(ctx);
        for (const file of FASHION_MNIST) {
          assert.equal(await sha256File(join(ctx.outDir, file.name)), file.sha256);
        }
        assert.match(ctx.logs[0], /skipped: HTTP 404/);
      } finally {
        await ctx.cleanup();
      }
    });
  },
});

if (!hasRealData) {
  console.log(
    `download real-data test skipped: ${DEBIAN_MIRROR} is absent (apt-get install dataset-fashion-mnist)`,
  );
}
