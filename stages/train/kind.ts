/**
 * The `train` stage kind: trains LGAE (components 1) or LLGAE (components K) of CATSMILE-1022
 * on the `shuffle` stage's images; writes `model.safetensors`, `history.jsonl`, `metrics.json`.
 *
 * @module
 */
import { z } from "zod";
import type { StageKind } from "../../pipeline/stage_kind.ts";
import { backendParam, backendRequest } from "../lib/backend_param.ts";
import { checkBeta } from "./stability.ts";

/** Params of `train` (`with:`). Defaults are the note's published run except `components`. */
export const trainParams = z.strictObject({
  /** K, number of local linear components (1 = LGAE). */
  components: z.int("components (K) must be an integer").min(
    1,
    "components (K) must be at least 1",
  ),
  /** E, latent dimension of every component. */
  latent_dim: z.int("latent_dim (E) must be an integer")
    .min(1, "latent_dim (E) must be at least 1")
    .max(783, "latent_dim (E) must be below the 784 pixels of an image")
    .default(20),
  /** T, gradient steps of the encoder. */
  steps: z.int("steps (T) must be an integer").min(1, "steps (T) must be at least 1").default(5),
  /** β, the encoder's step size. */
  beta: z.number("beta must be a number").positive("beta must be > 0").default(0.01),
  /** λ, the Gaussian prior's −λb in each encoder step (0 = the note's equation, 1 = its run). */
  latent_decay: z.number("latent_decay must be a number").min(0, "latent_decay must be ≥ 0")
    .default(1),
  /** Images per optimizer step. */
  batch_size: z.int("batch_size must be an integer").min(1, "batch_size must be at least 1")
    .default(360),
  /** Passes over the training set. */
  epochs: z.int("epochs must be an integer").min(1, "epochs must be at least 1").default(600),
  /**
   * `rmsprop` (the note's: PyTorch's RMSprop, ε outside the root), `rmsprop_tfjs` (tfjs's, ε
   * inside the root) or `adam`.
   */
  optimizer: z.enum(
    ["rmsprop", "rmsprop_tfjs", "adam"],
    "optimizer must be rmsprop, rmsprop_tfjs or adam",
  ).default("rmsprop"),
  /** Learning rate. */
  lr: z.number("lr must be a number").positive("lr must be > 0").default(1e-3),
  /**
   * `random` (the note's: PyTorch's `nn.Linear` default ranges, μ in ±1/√D, W in ±1/√(D·E·K))
   * or `data` (k-means + per-cluster PCA).
   */
  init: z.enum(["random", "data"], "init must be random or data").default("random"),
  /** Seed of initialisation and of the per-epoch batch order. */
  seed: z.int("seed must be an integer").min(0).max(2 ** 31 - 1).default(28),
  /** tfjs backend: `auto` (BLAS when OpenBLAS loads, else wasm), `blas`, `wasm` or `cpu`. */
  backend: backendParam,
  /**
   * Seconds between resume checkpoints: one is written after the first epoch that ends at least
   * this long after the last (0: after every epoch). Key-neutral: it decides only how much an
   * interrupted run redoes (resumed runs give the same model bit for bit), so neither the cache
   * key nor the model file holds it.
   */
  checkpoint_seconds: z.number("checkpoint_seconds must be a number")
    .min(0, "checkpoint_seconds must be ≥ 0").default(10),
}).superRefine(checkBeta); // a beta the encoder's steps diverge with from the init

/** Validated params of `train`. */
export type TrainParams = z.infer<typeof trainParams>;

/** The `train` stage kind. */
export const kind: StageKind<TrainParams> = {
  description: "train LGAE/LLGAE (CATSMILE-1022): model.safetensors, history.jsonl, metrics.json",
  params: trainParams,
  keyNeutralParams: ["checkpoint_seconds"],
  inputs: { data: { description: "shuffle output: train_images.npy and test_images.npy" } },
  outputs: () => ["model.safetensors", "history.jsonl", "metrics.json"],
  volatileOutputs: () => ["history.jsonl", "metrics.json"],
  headline: { metrics: ["test_mse"] },
  runtime: backendRequest,
  /**
   * Default resources; a config's `resources:` overrides them. OpenBLAS runs on `cpus` threads:
   * one, because most of a fused step is single-threaded JavaScript, so two trainings side by
   * side use two cores better than one training on two threads.
   */
  resources: () => ({ cpus: 1, mem: "4G", time: "2h" }),
};
