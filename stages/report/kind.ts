/**
 * The `report` stage kind: `report.md` and a self-contained `report.html` with the results
 * table beside the published numbers, the figure, the per-class table and provenance. The
 * figure is copied beside `report.md` so the Markdown renders on its own.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";

/** Params of `report` (`with:`). */
export const reportParams = z.strictObject({
  /** The report's first heading and the HTML page title. */
  title: z.string().min(1).default("LLGAE on Fashion-MNIST: reproduction report"),
});

/** Validated params of `report`. */
export type ReportParams = z.infer<typeof reportParams>;

/** The `report` stage kind. */
export const kind: StageKind<ReportParams> = {
  description: "report.md + self-contained report.html: results vs the note, figure, provenance",
  params: reportParams,
  inputs: {
    evaluation: { description: "evaluate output: metrics.json" },
    figure: { description: "figure output: figure.png" },
    models: { description: "train outputs: metrics.json, history.jsonl", many: true },
  },
  outputs: () => ["report.md", "report.html", "figure.png"],
  headline: { files: ["report.html"] },
};
