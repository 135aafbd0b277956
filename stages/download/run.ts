/**
 * Runs the `download` stage: obtains and verifies the four Fashion-MNIST idx files and writes
 * them, decompressed, into the output dir. Which source delivered them does not change the
 * outputs (they are checked against fixed digests).
 *
 * @module
 */
import { join } from "node:path";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { FASHION_MNIST } from "./fashion_mnist.ts";
import type { DownloadParams } from "./kind.ts";
import { obtainDataset } from "./obtain.ts";

/** The stage's work. */
export async function run(ctx: StageContext<DownloadParams>): Promise<void> {
  const data = await obtainDataset({
    sources: ctx.params.sources,
    files: FASHION_MNIST,
    timeoutMs: ctx.params.timeout_ms,
    retries: ctx.params.retries,
    backoffMs: ctx.params.backoff_ms,
    log: (message) => ctx.log(message),
    progress: (p) => ctx.progress(p),
  });
  for (const [name, bytes] of data) await writeFileAtomic(join(ctx.outDir, name), bytes);
}
