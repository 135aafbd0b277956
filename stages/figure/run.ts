/**
 * Runs the `figure` stage: picks a seeded set of test images covering every class,
 * reconstructs them with every model, and renders the grid, the component means and the
 * training curves to `figure.svg` and `figure.png`.
 *
 * @module
 */
import { join } from "node:path";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { initBackend } from "../lib/tf_backend.ts";
import { loadModel, reconstruct } from "../train/model.ts";
import { readSplit, readSplitSizes } from "../shuffle/outputs.ts";
import { readEvaluation } from "../evaluate/metrics.ts";
import { readHistory, readTrainMetrics } from "../train/outputs.ts";
import { figureContent, type FigureModel } from "./content.ts";
import type { FigureParams } from "./kind.ts";
import { renderFigure } from "./render.ts";
import { pickPerClass } from "./select.ts";
import { figureSpec } from "./spec.ts";

/** Side of one displayed image in SVG pixels: 28-pixel images enlarged 3×. */
const CELL = 84;

/** Writes `figure.svg` and `figure.png` into `ctx.outDir`. */
export async function run(ctx: StageContext<FigureParams>): Promise<void> {
  const backend = await initBackend(ctx.params.backend);
  const test = await readSplit(ctx.input("data"), "test");
  const evaluation = await readEvaluation(ctx.input("evaluation"));
  const picked = pickPerClass(test.labels, ctx.params.images_per_class, ctx.params.seed);
  const chosen = new Float32Array(picked.length * test.d);
  picked.forEach((i, j) =>
    chosen.set(test.images.subarray(i * test.d, (i + 1) * test.d), j * test.d)
  );

  const models: FigureModel[] = [];
  for (const { stage, dir } of ctx.inputs.models ?? []) {
    const model = await loadModel(join(dir, "model.safetensors"));
    const scored = evaluation.models[stage]?.components;
    if (scored !== model.components) {
      throw new Error(
        `${ctx.stage}: model ${stage} has K=${model.components} but the evaluation scored ` +
          `${
            scored === undefined ? "no such model" : `K=${scored}`
          }; wire the same models into evaluate and figure`,
      );
    }
    models.push({
      stage,
      recon: reconstruct(model, chosen, picked.length).recon,
      mu: model.mu,
      history: await readHistory(dir),
      train: await readTrainMetrics(dir),
    });
  }
  ctx.log(`backend ${backend}; ${picked.length} test images, ${models.length} models`);
  const content = figureContent({
    images: test.images,
    labels: test.labels,
    picked,
    models,
    evaluation,
    splits: await readSplitSizes(ctx.input("data")),
    cell: CELL,
  });
  const { svg, png } = await renderFigure(figureSpec(content), ctx.params.png_scale);
  await writeFileAtomic(join(ctx.outDir, "figure.svg"), svg);
  await writeFileAtomic(join(ctx.outDir, "figure.png"), png);
}
