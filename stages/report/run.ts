/**
 * Runs the `report` stage: reads the evaluation, the figure and each model's training
 * summary, and writes the same report as Markdown and as one self-contained HTML page.
 * The bytes depend only on the inputs and the provenance (no clocks, no randomness).
 *
 * @module
 */
import { join } from "node:path";
import { Buffer } from "node:buffer";
import type { StageContext } from "../../pipeline/stage_kind.ts";
import { writeFileAtomic } from "../../common/atomic_write.ts";
import { readEvaluation } from "../evaluate/metrics.ts";
import { readHistory, readTrainMetrics } from "../train/outputs.ts";
import { reportBlocks } from "./content.ts";
import { toHtml, toMarkdown } from "./document.ts";
import type { ReportParams } from "./kind.ts";

/** Writes `report.md`, `report.html` and a copy of `figure.png` into `ctx.outDir`. */
export async function run(ctx: StageContext<ReportParams>): Promise<void> {
  const evaluation = await readEvaluation(ctx.input("evaluation"));
  const png = await Deno.readFile(join(ctx.input("figure"), "figure.png"));
  const models = await Promise.all(
    (ctx.inputs.models ?? []).map(async ({ stage, dir }) => ({
      stage,
      train: await readTrainMetrics(dir),
      history: await readHistory(dir),
      params: (ctx.provenance.stages[stage]?.params ?? {}) as Record<string, unknown>,
    })),
  );
  if (models.length === 0) {
    throw new Error(`${ctx.stage}: needs at least one model in needs.models`);
  }
  const blocks = reportBlocks({
    title: ctx.params.title,
    evaluation,
    models,
    figure: {
      path: "figure.png",
      dataUri: `data:image/png;base64,${Buffer.from(png).toString("base64")}`,
    },
    provenance: ctx.provenance,
  });
  await writeFileAtomic(join(ctx.outDir, "figure.png"), png);
  await writeFileAtomic(join(ctx.outDir, "report.md"), toMarkdown(blocks));
  await writeFileAtomic(join(ctx.outDir, "report.html"), toHtml(blocks, ctx.params.title));
  ctx.log(`report: ${models.length} models, figure ${png.length} bytes`);
}
