/**
 * What the report says, as document blocks: the results table beside the published numbers,
 * the figure, component/class agreement, the per-class table and provenance.
 *
 * @module
 */
import type { Provenance } from "../../pipeline/stage_kind.ts";
import { CLASS_NAMES } from "../evaluate/classes.ts";
import type { EvaluationMetrics } from "../evaluate/metrics.ts";
import type { TrainMetrics } from "../evaluate/training_outputs.ts";
import type { Block } from "./document.ts";
import { NOTE_LLGAE, PCA_REFERENCE, referenceFor } from "./references.ts";

/** One trained model as the report sees it. */
export interface ReportModel {
  /** Training stage name. */
  stage: string;
  /** The training stage's `metrics.json`. */
  train: TrainMetrics;
  /** The training stage's validated params (from provenance), when known. */
  params: Record<string, unknown>;
}

/** Everything the report is made from. */
export interface ReportInputs {
  title: string;
  evaluation: EvaluationMetrics;
  models: ReportModel[];
  figure: { path: string; dataUri: string };
  provenance: Provenance;
}

const mse = (value: number) => value.toFixed(2);
const ratio = (value: number) => value.toFixed(3);

/** Seconds as `42.0 s` or `12.3 min`. */
export function duration(seconds: number): string {
  return seconds < 120 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

/** `LGAE` for one component, `LLGAE` for a mixture. */
export function modelFamily(components: number): string {
  return components > 1 ? "LLGAE" : "LGAE";
}

function param(params: Record<string, unknown>, key: string): string {
  const value = params[key];
  return value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value);
}

function scoresOf(inputs: ReportInputs, stage: string) {
  const scores = inputs.evaluation.models[stage];
  if (!scores) {
    throw new Error(
      `report: the evaluation has no scores for model ${stage}; wire the same models into ` +
        `evaluate and report (evaluated: ${Object.keys(inputs.evaluation.models).join(", ")})`,
    );
  }
  return scores;
}

function resultsTable(inputs: ReportInputs): Block {
  const { baselines } = inputs.evaluation;
  const rows = inputs.models.map(({ stage, train, params }) => {
    const scores = scoresOf(inputs, stage);
    return [
      `${modelFamily(scores.components)} (\`${stage}\`)`,
      String(scores.components),
      String(scores.latent_dim),
      param(params, "steps"),
      param(params, "beta"),
      param(params, "latent_decay"),
      param(params, "init"),
      String(train.epochs),
      mse(scores.test_mse),
      referenceFor(scores.components).label,
      duration(train.train_seconds),
    ];
  });
  const closed = (name: string, e: number, value: number, reference: string) => [
    name,
    "—",
    String(e),
    "—",
    "—",
    "—",
    "—",
    "—",
    mse(value),
    reference,
    "—",
  ];
  rows.push(
    closed("mean image (closed form)", baselines.mean.latent_dim, baselines.mean.test_mse, "—"),
  );
  rows.push(
    closed(
      "PCA (closed form)",
      baselines.pca.latent_dim,
      baselines.pca.test_mse,
      PCA_REFERENCE.label,
    ),
  );
  return {
    type: "table",
    headers: [
      "model",
      "K",
      "E",
      "T",
      "β",
      "λ",
      "init",
      "epochs",
      "test MSE (ours)",
      "published",
      "train time",
    ],
    rows,
    numeric: [false, true, true, true, true, true, false, true, true, true, true],
  };
}

function agreementTable(inputs: ReportInputs): Block {
  return {
    type: "table",
    headers: [
      "model",
      "K",
      "purity",
      "NMI",
      "component usage (test images per k)",
      "majority class per k",
    ],
    rows: inputs.models.map(({ stage }) => {
      const s = scoresOf(inputs, stage);
      return [
        `\`${stage}\``,
        String(s.components),
        ratio(s.purity),
        ratio(s.nmi),
        s.usage.join(", "),
        s.majority_class.map((c) => c ?? "unused").join(", "),
      ];
    }),
    numeric: [false, true, true, true, false, false],
  };
}

function perClassTable(inputs: ReportInputs): Block {
  const { baselines } = inputs.evaluation;
  const columns = [
    ...inputs.models.map(({ stage }) => ({
      name: `\`${stage}\``,
      perClass: scoresOf(inputs, stage).per_class,
    })),
    { name: "mean image", perClass: baselines.mean.per_class },
    { name: `PCA E=${baselines.pca.latent_dim}`, perClass: baselines.pca.per_class },
  ];
  return {
    type: "table",
    headers: ["class", ...columns.map((c) => c.name)],
    rows: CLASS_NAMES.map((name) => [
      name,
      ...columns.map((c) => c.perClass[name] === undefined ? "—" : mse(c.perClass[name])),
    ]),
    numeric: [false, ...columns.map(() => true)],
  };
}

function provenanceBlocks(p: Provenance): Block[] {
  const stages = Object.entries(p.stages).sort(([a], [b]) => a.localeCompare(b));
  const artifacts = stages.flatMap(([name, s]) =>
    Object.entries(s.outputs ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([file, digest]) => [
      `\`${name}\``,
      file,
      `\`${digest}\``,
    ])
  );
  return [
    { type: "heading", level: 2, text: "Provenance" },
    {
      type: "paragraph",
      text: `Config \`${p.config.path}\`, resolved content sha256 \`${p.config.digest}\`.`,
    },
    {
      type: "table",
      headers: ["stage", "kind", "cache key", "code sha256", "runtime"],
      rows: stages.map(([name, s]) => [
        `\`${name}\``,
        s.uses,
        `\`${s.key.slice(0, 16)}\``,
        `\`${s.codeDigest.slice(0, 16)}\``,
        Object.entries(s.runtime).map(([k, v]) => `${k}=${v}`).join(", ") || "—",
      ]),
    },
    { type: "heading", level: 3, text: "Params" },
    {
      type: "code",
      text: stages.map(([name, s]) => `${name}: ${JSON.stringify(s.params)}`).join("\n"),
    },
    { type: "heading", level: 3, text: "Artifacts (sha256), including the data" },
    { type: "table", headers: ["stage", "file", "sha256"], rows: artifacts },
    { type: "heading", level: 3, text: "Versions" },
    {
      type: "table",
      headers: ["component", "version"],
      rows: Object.entries(p.versions).sort(([a], [b]) => a.localeCompare(b)),
    },
  ];
}

/** The report as blocks. */
export function reportBlocks(inputs: ReportInputs): Block[] {
  const n = inputs.evaluation.test_images;
  return [
    { type: "heading", level: 1, text: inputs.title },
    {
      type: "paragraph",
      text: `Regenerated by the pipeline from \`${inputs.provenance.config.path}\`. ` +
        `Test MSE is the note's metric: pixels on the 0–255 scale, each image centred on its own ` +
        `mean, squared error averaged over the 784 pixels and the ${n} test images.`,
    },
    { type: "heading", level: 2, text: "Results" },
    resultsTable(inputs),
    {
      type: "paragraph",
      text: `Published: ${NOTE_LLGAE.label} is ${NOTE_LLGAE.source}; ${PCA_REFERENCE.label} is ` +
        `${PCA_REFERENCE.source}. T = encoder gradient steps, β = their step size, λ = weight of ` +
        `the Gaussian prior's −λb in each step (0 in the note's equation).`,
    },
    { type: "figure", path: inputs.figure.path, dataUri: inputs.figure.dataUri, alt: "Figure" },
    { type: "heading", level: 2, text: "Does the component capture the class?" },
    {
      type: "paragraph",
      text: "Each test image is assigned the component k with the smallest reconstruction error. " +
        "Purity: fraction of images whose class is the majority class of their component. " +
        "NMI: mutual information of k and the class over the mean of their entropies (0 = unrelated, 1 = identical).",
    },
    agreementTable(inputs),
    { type: "heading", level: 2, text: "Test MSE per class" },
    perClassTable(inputs),
    ...provenanceBlocks(inputs.provenance),
  ];
}
