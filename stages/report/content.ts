/**
 * What the report says, as document blocks: the results table beside the published numbers,
 * the figure, component/class agreement, the per-class table and provenance.
 *
 * @module
 */
import type { Provenance } from "../../pipeline/stage_kind.ts";
import { CLASS_NAMES } from "../evaluate/classes.ts";
import type { EvaluationMetrics } from "../evaluate/metrics.ts";
import type { HistoryLine, TrainMetrics } from "../train/outputs.ts";
import type { Block } from "./document.ts";
import { NOTE_LLGAE } from "../lib/note.ts";

/** One trained model as the report sees it. */
export interface ReportModel {
  /** Training stage name. */
  stage: string;
  /** The training stage's `metrics.json`. */
  train: TrainMetrics;
  /** The training stage's `history.jsonl`, one line per epoch. */
  history: HistoryLine[];
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

/** `LLGAE (K = 11)` / `LGAE (K = 1)`, as the figure labels them. */
function modelName(components: number): string {
  return `${modelFamily(components)} (K = ${components})`;
}

function resultsTable(inputs: ReportInputs): Block {
  const { baselines } = inputs.evaluation;
  const rows = inputs.models.map(({ stage, train, params }) => {
    const scores = scoresOf(inputs, stage);
    return [
      `${modelName(scores.components)} (\`${stage}\`)`,
      String(scores.components),
      String(scores.latent_dim),
      param(params, "steps"),
      param(params, "beta"),
      param(params, "latent_decay"),
      train.init,
      String(train.epochs),
      mse(scores.test_mse),
      scores.components > 1
        ? `${NOTE_LLGAE.value} (the note, epoch ${NOTE_LLGAE.epoch})`
        : `— (PCA: ${mse(baselines.pca.test_mse)})`,
      duration(train.train_seconds),
    ];
  });
  const closed = (name: string, e: number, value: number) => [
    name,
    "—",
    String(e),
    "—",
    "—",
    "—",
    "—",
    "—",
    mse(value),
    "—",
    "—",
  ];
  rows.push(closed("mean image (closed form)", baselines.mean.latent_dim, baselines.mean.test_mse));
  rows.push(closed("PCA (closed form)", baselines.pca.latent_dim, baselines.pca.test_mse));
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

/** Where every number of the results table comes from. */
function resultsNotes(inputs: ReportInputs): Block {
  const { baselines, test_images } = inputs.evaluation;
  return {
    type: "list",
    items: [
      `**test MSE (ours)**: the evaluate stage's score of the final parameters on the ` +
      `${test_images} test images (the note's metric, above).`,
      `**published ${NOTE_LLGAE.value}**: ${NOTE_LLGAE.source}. The note publishes no LGAE ` +
      `number; an LGAE can at best match PCA with the same E, so its row shows our PCA.`,
      `**mean image**: every test image reconstructed as the mean training image (E = 0), ` +
      `closed form on the same data. **PCA**: the top E = ${baselines.pca.latent_dim} ` +
      `principal directions of the training images, closed form on the same data ` +
      `(test MSE ${mse(baselines.pca.test_mse)}).`,
      "**T** = encoder gradient steps, **β** = their step size, **λ** = weight of the Gaussian " +
      "prior's −λb in each step (0 in the note's equation, 1 in its run). **init**: `random` is " +
      "the note's (PyTorch's nn.Linear ranges), `data` k-means means with per-cluster PCA.",
      "**train time**: wall-clock time of the training epochs as the train stage measured " +
      "them (each epoch's optimizer steps plus its test-set scoring), summed; initialisation, " +
      "data loading and the evaluate stage are not included.",
    ],
  };
}

/** The epochs shown in the curve table: the start, the note's checkpoints and the last. */
const MILESTONES = [0, 1, 10, 21, 40, 100, 200, 540];

/** Test MSE of every model at the milestone epochs it reached (0 = initial parameters). */
function curveTable(inputs: ReportInputs): Block {
  const last = Math.max(...inputs.models.map((m) => m.train.epochs));
  const epochs = [...new Set([...MILESTONES.filter((e) => e <= last), last])].sort((a, b) => a - b);
  return {
    type: "table",
    headers: ["model", "init", ...epochs.map((e) => `epoch ${e}`)],
    rows: inputs.models.map(({ stage, train, history }) => {
      const at = new Map(history.map((h) => [h.epoch, h.test_mse]));
      at.set(0, train.init_test_mse);
      return [
        `${modelName(scoresOf(inputs, stage).components)} (\`${stage}\`)`,
        train.init,
        ...epochs.map((e) => at.has(e) ? mse(at.get(e)!) : "—"),
      ];
    }),
    numeric: [false, false, ...epochs.map(() => true)],
  };
}

/** Component usage on the test set after milestone epochs, for every mixture model. */
function usageTable(inputs: ReportInputs): Block {
  const rows = inputs.models.flatMap(({ stage, train, history }) => {
    const K = scoresOf(inputs, stage).components;
    if (K === 1) return [];
    const last = train.epochs;
    const wanted = new Set([...MILESTONES, last]);
    return history.filter((h) => wanted.has(h.epoch) && h.usage).map((h) => [
      `\`${stage}\``,
      String(h.epoch),
      `${h.usage!.filter((n) => n > 0).length} of ${K}`,
      h.usage!.join(", "),
    ]);
  });
  return {
    type: "table",
    headers: ["model", "epoch", "components in use", "test images per component k = 1…K"],
    rows,
    numeric: [false, true, true, false],
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

/**
 * The packages the project's code imports directly (deno.json's import map) and Deno itself;
 * the provenance's full list, with everything they pull in, goes behind a `<details>`.
 */
const DIRECT_DEPENDENCIES = [
  "deno",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "zod",
  "yaml",
  "commander",
  "pure-rand",
  "fast-png",
  "vega",
  "vega-lite",
  "@resvg/resvg-js",
  "dejavu-fonts-ttf",
];

/** A value as a config would spell it. */
function showValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function provenanceBlocks(p: Provenance): Block[] {
  // The provenance lists every stage after its upstream stages: pipeline order.
  const stages = Object.entries(p.stages);
  const artifacts = stages.flatMap(([name, s]) =>
    Object.entries(s.outputs ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([file, digest]) => [
      `\`${name}\``,
      file,
      `\`${digest}\``,
    ])
  );
  const versions = Object.entries(p.versions).sort(([a], [b]) => a.localeCompare(b));
  const direct = DIRECT_DEPENDENCIES.filter((name) => p.versions[name] !== undefined)
    .map((name) => [name, p.versions[name]]);
  return [
    { type: "heading", level: 2, text: "Provenance" },
    {
      type: "paragraph",
      text: `Config \`${p.config.path}\`, resolved content sha256 \`${p.config.digest}\`. ` +
        "Stages in pipeline order (each after the stages it reads).",
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
      text: stages.map(([name, s]) =>
        [
          `${name} (${s.uses})`,
          ...Object.entries(s.params as Record<string, unknown>).map(([k, v]) =>
            `  ${k} = ${showValue(v)}`
          ),
        ].join("\n")
      ).join("\n\n"),
    },
    { type: "heading", level: 3, text: "Artifacts (sha256), including the data" },
    { type: "table", headers: ["stage", "file", "sha256"], rows: artifacts },
    { type: "heading", level: 3, text: "Versions" },
    {
      type: "paragraph",
      text: "Deno and the packages the code imports directly:",
    },
    { type: "table", headers: ["component", "version"], rows: direct },
    {
      type: "details",
      summary: `All ${versions.length} resolved packages (with what they pull in)`,
      blocks: [{ type: "table", headers: ["component", "version"], rows: versions }],
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
    resultsNotes(inputs),
    { type: "figure", path: inputs.figure.path, dataUri: inputs.figure.dataUri, alt: "Figure" },
    { type: "heading", level: 2, text: "Test MSE during training" },
    {
      type: "paragraph",
      text: "From each training's history (the test set scored after every epoch); epoch 0 is " +
        `the initial parameters. The note's ${NOTE_LLGAE.value} is at epoch ${NOTE_LLGAE.epoch}.`,
    },
    curveTable(inputs),
    { type: "heading", level: 2, text: "Component usage during training" },
    {
      type: "paragraph",
      text: "Test images choosing each component after the epoch (from the training history). " +
        "A component no image chooses gets no gradient and stays unused.",
    },
    usageTable(inputs),
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
