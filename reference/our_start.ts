/**
 * Writes the start of a `train` stage with `init: random` (μ, W and every epoch's batch order,
 * drawn exactly as stages/train/run.ts draws them) plus its images, in the layout
 * `reference/torch_llgae.py steps DIR` reads, so the PyTorch reference can train the full
 * protocol from our start:
 *
 *   npx -y deno@2.9.6 run -A reference/our_start.ts SHUFFLE_DIR OUT_DIR EPOCHS [seed K E]
 *   /usr/bin/python3 reference/torch_llgae.py steps OUT_DIR
 *
 * @module
 */
import { join } from "node:path";
import { readNpyFloat32, writeNpy } from "../stages/lib/npy.ts";
import { Rng } from "../stages/lib/prng.ts";
import { randomInit } from "../stages/train/init.ts";

const [shuffleDir, outDir, epochsArg, seedArg = "28", kArg = "11", eArg = "20"] = Deno.args;
if (!shuffleDir || !outDir || !epochsArg) {
  throw new Error("usage: our_start.ts SHUFFLE_DIR OUT_DIR EPOCHS [seed K E]");
}
const [epochs, seed, K, E] = [epochsArg, seedArg, kArg, eArg].map(Number);
const train = await readNpyFloat32(join(shuffleDir, "train_images.npy"));
const test = await readNpyFloat32(join(shuffleDir, "test_images.npy"));
const [n, D] = train.shape;
const rng = new Rng(seed);
const shuffleRng = new Rng(rng.int(0, 2 ** 31 - 1)); // as run.ts: the batch orders' own stream
const { mu, W } = randomInit({ K, D, E }, rng);
const order = new Int32Array(epochs * n);
for (let e = 0; e < epochs; e++) order.set(shuffleRng.permutation(n), e * n);
await Deno.mkdir(outDir, { recursive: true });
await writeNpy(join(outDir, "mu.npy"), { data: mu, shape: [K, D] });
await writeNpy(join(outDir, "W.npy"), { data: W, shape: [K, D, E] });
await writeNpy(join(outDir, "images.npy"), train);
await writeNpy(join(outDir, "test_images.npy"), test);
await writeNpy(join(outDir, "order.npy"), { data: order, shape: [epochs, n] });
const config = {
  steps: 5,
  beta: 0.01,
  latent_decay: 1,
  lr: 1e-3,
  optimizer: "rmsprop",
  batch_size: 360,
  threads: 1,
};
await Deno.writeTextFile(join(outDir, "config.json"), JSON.stringify(config));
console.log(`${outDir}: μ [${K},${D}], W [${K},${D},${E}], ${epochs} epochs of ${n} images`);
