/**
 * The hand-built contexts of the two data stages on the real Fashion-MNIST (Debian mirror, seed
 * 28), shared by the benchmarks that time them or train on their output.
 *
 * @module
 */
import { DEBIAN_MIRROR } from "../stages/download/fashion_mnist.ts";
import { kind as downloadKind } from "../stages/download/kind.ts";
import { kind as shuffleKind } from "../stages/shuffle/kind.ts";
import { stageContext } from "../tests/fixtures/report/context.ts";

/** Fresh, not yet run, `download` and `shuffle` contexts, the second reading the first's output. */
export async function dataStageContexts() {
  const raw = await stageContext(
    downloadKind,
    { sources: [DEBIAN_MIRROR] },
    {},
    undefined,
    "download",
  );
  const data = await stageContext(
    shuffleKind,
    { seed: 28 },
    { raw: [{ stage: "download", dir: raw.outDir }] },
    undefined,
    "shuffle",
  );
  return { raw, data };
}
