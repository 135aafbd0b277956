/**
 * What makes training diverge, checked before and while it runs.
 *
 * - Up front: one encoder step b ← (1 − βλ)b + βWᵀ(x − μ − Wb) scales the code's error by the
 *   eigenvalues of (1 − βλ)I − βWᵀW; it contracts when all lie in (−1, 1], i.e.
 *   β(λ + λ_max(WᵀW)) < 2. The initialisation fixes WᵀW: `data` scales W so that βWᵀW = I
 *   (an eigenvalue −βλ); `random` draws W uniform in ±1/√(D·E·K) (`nn.Linear`'s default),
 *   whose WᵀW has λ_max of at least about 1/(3EK) (its mean diagonal, whatever D). Training
 *   pulls an overshoot back (measured on the smoke data, K = 11, 3 epochs: β = 2 with `data`,
 *   2-fold per step, reaches test MSE 2072, below the mean image's 4594), so {@link checkBeta}
 *   rejects only a β whose steps at least {@link MAX_STEP_GAIN}-fold the error from the start
 *   (β = 10 with `data`: 10-fold per step, test MSE 2.4e9).
 * - While and after training: a test MSE that is not finite, over {@link DIVERGED_FACTOR}× the
 *   reference after an epoch, or over the reference at the end marks a diverged run; it fails
 *   with the params to change instead of being kept. The reference is the worse of two
 *   predictors that need no training: the mean training image, and the initial μ_k nearest
 *   each image (the model with every code 0; for `random`, about the zero image).
 *
 * Light (no tfjs): the kind's params check imports it.
 *
 * @module
 */
import type { z } from "zod";
import { meanImage, projectionErrors } from "../evaluate/baselines.ts";

/** The factor one encoder step may scale the code's error by at the init, at most (exclusive). */
export const MAX_STEP_GAIN = 4;

/** An epoch whose test MSE exceeds this multiple of the reference stops training at once. */
export const DIVERGED_FACTOR = 100;

/** The params {@link betaLimit} and {@link checkBeta} read. */
export interface StepParams {
  init: "random" | "data";
  beta: number;
  latent_decay: number;
  /** E. */
  latent_dim: number;
  /** K. */
  components: number;
}

/** The β every value must stay below (Infinity: any β) for the init, and why. */
export function betaLimit(
  { init, latent_decay, latent_dim, components }: Omit<StepParams, "beta">,
): { limit: number; why: string } {
  if (init === "data") {
    return {
      limit: MAX_STEP_GAIN / latent_decay,
      why: `init data scales W so that beta·WᵀW = I, so each encoder step scales the code's ` +
        `error by beta·latent_decay (latent_decay ${latent_decay})`,
    };
  }
  const lambdaMax = 1 / (3 * latent_dim * components);
  const shown = lambdaMax.toPrecision(3);
  return {
    limit: (1 + MAX_STEP_GAIN) / (latent_decay + lambdaMax),
    why: `init random draws W uniform in ±1/√(D·E·K), so WᵀW's largest eigenvalue is about ` +
      `1/(3·E·K) = ${shown} (E ${latent_dim}, K ${components}) and each encoder step scales ` +
      `the code's error by beta·(latent_decay + ${shown}) − 1 (latent_decay ${latent_decay})`,
  };
}

/** zod refinement of the train params: a β the encoder blows up with is an error on `beta`. */
export function checkBeta(params: StepParams, ctx: z.RefinementCtx): void {
  const { limit, why } = betaLimit(params);
  if (params.beta < limit) return;
  ctx.addIssue({
    code: "custom",
    path: ["beta"],
    message: `the encoder's steps blow up from the start: ${why}, which must stay below ` +
      `${MAX_STEP_GAIN}; use a beta below ${limit.toPrecision(3)}`,
  });
}

/** Row-major images of `d` pixels. */
interface Rows {
  data: Float32Array;
  n: number;
}

/**
 * Test MSE of the worse of the two untrained predictors: the mean training image, and the
 * nearest of the K initial centres `mu` (K×d).
 */
export function referenceMse(train: Rows, test: Rows, d: number, mu: Float32Array): number {
  const mean = meanImage(train.data, train.n, d);
  const none = new Float32Array(0);
  const byMean = projectionErrors(test.data, test.n, d, mean, none, 0);
  const byCentre = new Float64Array(test.n).fill(Infinity);
  for (let k = 0; k < mu.length / d; k++) {
    const errors = projectionErrors(test.data, test.n, d, mu.subarray(k * d, (k + 1) * d), none, 0);
    errors.forEach((e, i) => byCentre[i] = Math.min(byCentre[i], e));
  }
  const average = (errors: Float64Array) => errors.reduce((a, b) => a + b, 0) / test.n;
  return Math.max(average(byMean), average(byCentre));
}

/** What a test MSE is judged against, and the params to name. */
export interface DivergenceCheck {
  /** The stage's name in the config. */
  stage: string;
  beta: number;
  lr: number;
  /** {@link referenceMse} of the run's data and initial μ. */
  referenceMse: number;
}

function verdict(check: DivergenceCheck, testMse: number, bound: number, when: string) {
  if (Number.isFinite(testMse) && testMse <= bound) return undefined;
  const { stage, beta, lr, referenceMse } = check;
  return `train: test MSE ${testMse} ${when} is ` +
    (Number.isFinite(testMse)
      ? `worse than ${bound === referenceMse ? "" : `${bound / referenceMse}× `}${
        referenceMse.toFixed(2)
      }, what the mean training image or the initial centres predict`
      : "not finite") +
    `: training diverged, so the model is not kept; lower stages.${stage}.with.beta ` +
    `(now ${beta}) or stages.${stage}.with.lr (now ${lr})`;
}

/** Why training must stop after `epoch` with `testMse`, or undefined to go on. */
export function epochDivergence(
  check: DivergenceCheck,
  epoch: number,
  testMse: number,
): string | undefined {
  return verdict(check, testMse, DIVERGED_FACTOR * check.referenceMse, `after epoch ${epoch}`);
}

/** Why the trained model with `testMse` must not be kept, or undefined to keep it. */
export function modelDivergence(check: DivergenceCheck, testMse: number): string | undefined {
  return verdict(check, testMse, check.referenceMse, "of the trained model");
}
