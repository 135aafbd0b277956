/**
 * The remote cache on the real pipeline: the data stages of the smoke config (download from the
 * Debian Fashion-MNIST mirror, shuffle to 2,000 + 1,000 images) run in one checkout of the
 * project and pushed to nginx on loopback, then pulled into a second checkout at another path,
 * where nothing runs and every published file is byte-identical. (The full smoke config, training
 * included, is what `deno task bench remote` pulls.) Skipped with a notice when nginx or the
 * dataset is missing, unless CI=true, where that is a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../common/sha256.ts";
import { checkout, cliArgs } from "./fixtures/checkout.ts";
import { collect } from "./fixtures/engine/project.ts";
import { nginxGate, startNginx } from "./fixtures/nginx/server.ts";

const MIRROR = "/usr/share/datasets/fashion-mnist";
const CONFIG = `description: the data stages of the smoke config
stages:
  download:
    uses: download
    with: { sources: [${MIRROR}] }
  shuffle:
    uses: shuffle
    needs: { raw: download }
    with: { seed: 28, limit: 2000, test_limit: 1000 }
`;

const gate = await nginxGate("remote_smoke_test");
const haveData = await Deno.stat(MIRROR).then(() => true, () => false);
const required = Deno.env.get("CI") === "true";
if (!haveData) {
  console.warn(`remote_smoke_test: ${MIRROR} missing (apt-get install dataset-fashion-mnist)`);
}

/** A clean checkout of the project's code with one config. */
async function dataCheckout(): Promise<string> {
  const root = await checkout({ prefix: "remote_smoke_", dirs: ["stages", "common", "pipeline"] });
  await Deno.mkdir(join(root, "configs"));
  await Deno.writeTextFile(join(root, "configs", "data.yaml"), CONFIG);
  return root;
}

/** Runs the CLI in `root`. */
async function pipeline(root: string, ...args: string[]) {
  const command = new Deno.Command(Deno.execPath(), {
    args: cliArgs(root, args),
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  });
  return collect(await command.output());
}

/** Published file (relative to `artifacts/out/data/`) → sha256. */
async function publishedDigests(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const stage of ["download", "shuffle"]) {
    const dir = join(root, "artifacts", "out", "data", stage);
    for await (const e of Deno.readDir(dir)) {
      out[`${stage}/${e.name}`] = await sha256File(join(dir, e.name));
    }
  }
  return out;
}

Deno.test({
  name:
    "remote smoke: the real data stages pushed from one checkout are pulled into another without running",
  ignore: gate.ignore || (!haveData && !required),
  fn: async () => {
    gate.require();
    const server = await startNginx();
    const first = await dataCheckout();
    const second = await dataCheckout();
    try {
      const ran = await pipeline(first, "run", "configs/data.yaml", "--remote", server.url);
      assert.equal(ran.code, 0, ran.stderr);
      assert.deepEqual(ran.summary, { ran: 2, cached: 0, failed: 0 });

      const pulled = await pipeline(second, "run", "configs/data.yaml", "--remote", server.url);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(
        pulled.stdout,
        /^stages: 0 ran, 0 cached, 0 failed, 2 pulled from the remote cache$/m,
      );
      assert.doesNotMatch(pulled.stderr, /warning/);
      const files = await publishedDigests(second);
      assert.deepEqual(files, await publishedDigests(first));
      assert.ok(Object.keys(files).length >= 4, JSON.stringify(files));
      const lock = async (root: string) =>
        JSON.parse(await Deno.readTextFile(join(root, "configs", "data.lock.json"))).stages;
      assert.deepEqual(await lock(second), await lock(first));
    } finally {
      await server.stop();
      await Deno.remove(first, { recursive: true });
      await Deno.remove(second, { recursive: true });
    }
  },
});
