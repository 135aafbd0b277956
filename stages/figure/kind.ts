/**
 * The `figure` stage kind: one PNG (and the same figure as SVG) with test images and their
 * reconstructions by every model, the component means of each mixture model labelled with
 * their majority class, and test-MSE training curves against the note's 768.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";
import { backendParam, backendRequest } from "../lib/backend_param.ts";

/** Params of `figure` (`with:`). */
export const figureParams = z.strictObject({
  /** tfjs backend for reconstructing the shown images. */
  backend: backendParam,
  /** Seed of the choice of test images. */
  seed: z.int().default(28),
  /** Test images shown per class (grid columns = 10 × this). */
  images_per_class: z.int().min(1).max(3).default(1),
  /** PNG pixels per SVG pixel. */
  png_scale: z.number().min(0.5).max(4).default(2),
});

/** Validated params of `figure`. */
export type FigureParams = z.infer<typeof figureParams>;

/** The `figure` stage kind. */
export const kind: StageKind<FigureParams> = {
  description: "figure.png + figure.svg: reconstructions, component means, training curves",
  params: figureParams,
  inputs: {
    data: { description: "shuffle output: test_images.npy, test_labels.npy" },
    models: { description: "train outputs: model.safetensors, history.jsonl", many: true },
    evaluation: { description: "evaluate output: metrics.json" },
  },
  outputs: () => ["figure.png", "figure.svg"],
  runtime: backendRequest,
  /** Default resources (renders one figure); a config's `resources:` overrides them. */
  resources: () => ({ cpus: 1, mem: "2G", time: "15m" }),
  /**
   * resvg's WebAssembly renders once, for about a second: optimising it in the background
   * would cost ~0.7 s of another core's time and finish no sooner.
   */
  wasmCompilation: "baseline-only",
};
