/**
 * LGAE / LLGAE, the decoder-only autoencoders of CATSMILE-1022 (`shared/seed/catsmile-1022-llgae.md`).
 *
 * Parameters, per component k = 1..K: a mean μ_k ∈ R^D and loadings W_k ∈ R^{D×E}.
 * An image x is encoded by T gradient steps on b from b_k(0) = 0, for every k:
 *   b_k(t) = b_k(t−1) + β ( W_kᵀ (x − μ_k − W_k b_k(t−1)) − λ b_k(t−1) )
 * (λ = 0 is the note's equation; λ = 1 adds the gradient of a Gaussian prior on b, as the note's
 * published run did). The choice k* = argmin_k ‖x − μ_k − W_k b_k(T)‖² is the note's max over k;
 * the reconstruction is x̂ = μ_k* + W_k* b_k*(T) and the loss the mean of (x̂ − x)² over pixels
 * and batch. Gradients reach μ and W through the T unrolled steps of the chosen component only.
 * LGAE is K = 1.
 *
 * Two formulations compute the same numbers: {@link lossLiteral} writes the steps as above (the
 * reference), {@link forward} works with P_k = W_kᵀ(x − μ_k), Gram matrices C_k = W_kᵀW_k and
 * the T steps folded into one E×E matrix per component ({@link stepsMatrix}).
 * Call `initBackend` (stages/lib/tf_backend.ts) before using either: the formulation follows
 * the backend it started (stages/lib/backend_traits.ts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendTraits } from "../lib/backend_traits.ts";
import { readSafeTensors } from "../lib/safetensors.ts";

/** The encoder's settings. */
export interface Encoder {
  /** T, gradient steps on b. */
  steps: number;
  /** β, the step size. */
  beta: number;
  /** λ, weight of the Gaussian prior's gradient −λb in each step (0 in the note's equation). */
  latentDecay: number;
}

/** The model's sizes. */
export interface ModelDims {
  /** Components. */
  K: number;
  /** Pixels per image. */
  D: number;
  /** Latent dimension. */
  E: number;
}

/** The trainable parameters: μ [K,D] and W [K,D,E]. */
export interface Params {
  mu: tf.Tensor2D;
  W: tf.Tensor3D;
}

/** Swaps the last two axes (an explicit transpose). */
function swap(a: tf.Tensor): tf.Tensor {
  return a.rank === 2 ? tf.transpose(a) : tf.transpose(a, [0, 2, 1]);
}

/**
 * a·b with either operand transposed (last two axes). The blas backend reads transposes for
 * free through the BLAS flags; tfjs-wasm is about ten times slower with its flags set, so
 * elsewhere the operand is transposed explicitly.
 */
function matMulT(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor {
  if (backendTraits().blas) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb);
  return tf.matMul((ta ? swap(a) : a) as tf.Tensor3D, (tb ? swap(b) : b) as tf.Tensor3D);
}

/** Matrix product (rank 2 or batched rank 3) with a hand-written gradient using {@link matMulT}. */
const mm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [sa, sb]: tf.Tensor[]) => [
      matMulT(dy as tf.Tensor, sb, false, true), // ∂/∂a = dy bᵀ
      matMulT(sa, dy as tf.Tensor, true, false), // ∂/∂b = aᵀ dy
    ],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * data·b where `data` (the batch) is a constant: only b is an input of the gradient, so no
 * gradient (a batch-sized product or zeros) is computed for the data.
 */
function mmData(data: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [sb] = args as [tf.Tensor3D];
    return {
      value: tf.matMul(data as tf.Tensor3D, sb),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => matMulT(data, dy as tf.Tensor, true, false), // aᵀ dy
    };
  })(b);
}

/** [W_1 … W_K] (D×KE) of W [K,D,E]. */
function concatW(W: tf.Tensor3D): tf.Tensor2D {
  const [K, D, E] = W.shape;
  return tf.reshape(tf.transpose(W, [1, 0, 2]), [D, K * E]);
}

/** Gram matrices C_k = W_kᵀ W_k [K,E,E] of W [K,D,E]; gradient ∂/∂W = W (dC + dCᵀ). */
const gram = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [w, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
  save([w]);
  return {
    value: matMulT(w, w, true, false),
    gradFunc: (dC: tf.Tensor | tf.Tensor[], [sw]: tf.Tensor[]) =>
      tf.matMul(sw as tf.Tensor3D, tf.add(dC as tf.Tensor, swap(dC as tf.Tensor)) as tf.Tensor3D),
  };
}) as (w: tf.Tensor) => tf.Tensor;

/**
 * The T encoder steps for every k at once, from b(0) = 0 (b as rows; C and A symmetric):
 *   b(1) = βP,  b(t) = b(t−1) + β(P − C b(t−1) − λ b(t−1)) = b(t−1) A + βP,  A = (1 − βλ)I − βC,
 * so b(T) = βP (I + A + A² + … + A^{T−1}) = βP S. Returns S [K,E,E], by Horner: S ← I + A S,
 * T − 1 times (E×E products only; gradients by autodiff).
 */
function stepsMatrix(C: tf.Tensor3D, { steps, beta, latentDecay }: Encoder): tf.Tensor3D {
  const I = tf.eye(C.shape[2]);
  const A = tf.sub(tf.mul(1 - beta * latentDecay, I), tf.mul(beta, C)) as tf.Tensor3D;
  let S: tf.Tensor3D = tf.add(tf.zerosLike(C), I); // A⁰, one per component
  for (let t = 2; t <= steps; t++) S = tf.add(I, tf.matMul(A, S));
  return S;
}

/** Rows of [B,K] with 1 at each image's chosen component (tf.oneHot rejects K = 1). */
function oneHot(choice: tf.Tensor1D, K: number): tf.Tensor2D {
  return K === 1
    ? tf.ones([choice.shape[0], 1])
    : tf.cast(tf.oneHot(choice, K), "float32") as tf.Tensor2D;
}

/** The reference: the note's per-step products for each k; returns the loss and the choice. */
export function lossLiteral(
  { mu, W }: Params,
  x: tf.Tensor2D,
  { steps, beta, latentDecay }: Encoder,
): { loss: tf.Scalar; choice: tf.Tensor1D } {
  const [K, D, E] = W.shape;
  const errors: tf.Tensor1D[] = [];
  for (let k = 0; k < K; k++) {
    const muK = tf.slice(mu, [k, 0], [1, D]); // μ_k
    const wK = tf.reshape(tf.slice(W, [k, 0, 0], [1, D, E]), [D, E]) as tf.Tensor2D; // W_k
    let b: tf.Tensor2D = tf.zeros([x.shape[0], E]); // b_k(0) = 0
    for (let t = 1; t <= steps; t++) {
      const r = tf.sub(tf.sub(x, muK), tf.matMul(b, wK, false, true)); // x − μ_k − W_k b
      b = tf.add(b, tf.mul(beta, tf.sub(tf.matMul(r, wK), tf.mul(latentDecay, b)))); // b += β(W_kᵀ r − λb)
    }
    const r = tf.sub(tf.sub(x, muK), tf.matMul(b, wK, false, true));
    errors.push(tf.sum(tf.square(r), 1)); // ‖x − μ_k − W_k b_k(T)‖²
  }
  const err = tf.stack(errors, 1); // [B, K]
  const choice = tf.argMin(err, 1) as tf.Tensor1D; // k* = argmin_k; not differentiated
  const chosen = tf.sum(tf.mul(err, oneHot(choice, K)), 1); // ‖x − x̂‖² of k*
  return { loss: tf.div(tf.mean(chosen), D), choice };
}

/**
 * The fast encoder: one product of the batch against every W_k, Gram matrices for the T steps,
 * and each component's error without decoding, from P_k = W_kᵀ(x − μ_k) and b_k(T) = βP_k S_k
 * ({@link stepsMatrix}). Returns the loss (mean over pixels and batch of the chosen component's
 * error), the choice as indices and one-hot rows [B,K], and the codes b(T) [K,B,E] on demand.
 */
function encode({ mu, W }: Params, x: tf.Tensor2D, encoder: Encoder) {
  const [K, D, E] = W.shape;
  const B = x.shape[0];
  const beta = encoder.beta;
  // W_kᵀ x for every k, [K,B,E]: on blas a batched product with x shared by all k (which the
  // backend packs into one wide product); elsewhere one product against [W_1 … W_K] spelled out
  // (wasm is slow with many small products).
  const xw = backendTraits().blas
    ? mmData(x, W)
    : tf.transpose(tf.reshape(mmData(x, concatW(W)), [B, K, E]), [1, 0, 2]);
  const muW = mm(tf.reshape(mu, [K, 1, D]), W); // μ_kᵀ W_k, [K,1,E]
  const P = tf.sub(xw, muW); // P_k = W_kᵀ (x − μ_k)
  const C = gram(W) as tf.Tensor3D; // C_k = W_kᵀ W_k, [K,E,E]
  const S = stepsMatrix(C, encoder); // b_k(T) = βP_k S_k
  // ‖x − μ_k‖² = ‖x‖² − 2 xᵀμ_k + ‖μ_k‖², [B,K]
  const xx = tf.sum(tf.square(x), 1, true);
  const xMu = tf.add(tf.sub(xx, tf.mul(2, mmData(x, tf.transpose(mu)))), tf.sum(tf.square(mu), 1));
  // ‖x − μ_k − W_k b‖² = ‖x − μ_k‖² − bᵀ(2P_k − C_k b), and with b = βS_k P_k (S_k and C_k are
  // symmetric polynomials in C_k, so they commute): bᵀ(2P_k − C_k b) = P_kᵀ Q_k P_k,
  // Q = 2βS − β²SCS [K,E,E]
  const Q = tf.sub(tf.mul(2 * beta, S), tf.mul(beta * beta, tf.matMul(S, tf.matMul(C, S))));
  const pQp = tf.sum(tf.mul(P, mm(P, Q)), 2); // [K,B]
  const err = tf.sub(tf.transpose(xMu), pQp); // [K,B]
  const choice = tf.argMin(err, 0) as tf.Tensor1D; // k* = argmin_k; not differentiated
  const pick = oneHot(choice, K); // [B,K]
  const chosen = tf.sum(tf.mul(err, tf.transpose(pick)), 0); // ‖x − x̂‖² of k*, [B]
  const codes = () => tf.mul(beta, mm(P, S)); // b(T) = βP S
  return { loss: tf.div(tf.mean(chosen), D) as tf.Scalar, choice, pick, codes };
}

/**
 * The training loss of the fast formulation: the mean over pixels and batch of (x̂ − x)², from
 * the encoder's errors without decoding (the same number as {@link forward}'s loss).
 */
export function loss(params: Params, x: tf.Tensor2D, encoder: Encoder): tf.Scalar {
  return encode(params, x, encoder).loss;
}

/**
 * The fast formulation: {@link loss}, then a decode of the chosen component only. Returns the
 * loss (mean over pixels and batch), the reconstruction, the choice and each image's mean
 * squared error.
 */
export function forward(
  params: Params,
  x: tf.Tensor2D,
  encoder: Encoder,
): { loss: tf.Scalar; recon: tf.Tensor2D; choice: tf.Tensor1D; sqErr: tf.Tensor1D } {
  const [K, , E] = params.W.shape;
  const B = x.shape[0];
  const { loss, choice, pick, codes } = encode(params, x, encoder);
  const bChosen = tf.reshape(
    tf.transpose(tf.mul(codes(), tf.expandDims(tf.transpose(pick), 2)), [1, 0, 2]),
    [B, K * E],
  );
  const decoded = matMulT(bChosen, concatW(params.W), false, true); // W_k* b_k*(T)
  const recon = tf.add(tf.matMul(pick, params.mu), decoded) as tf.Tensor2D; // x̂ = μ_k* + W_k* b_k*(T)
  const sqErr = tf.mean(tf.square(tf.sub(recon, x)), 1) as tf.Tensor1D; // per image, over pixels
  return { loss, recon, choice, sqErr };
}

/** A trained model read from `model.safetensors`, as plain arrays. */
export interface LoadedModel {
  /** K, number of components. */
  components: number;
  /** E, latent dimension. */
  latentDim: number;
  /** D, pixels per image. */
  pixels: number;
  /** μ, K×D row-major. */
  mu: Float32Array;
  /** W, K×D×E row-major. */
  W: Float32Array;
  /** The encoder settings it was trained with. */
  encoder: Encoder;
  /** The file's `__metadata__` (params as JSON, epoch, backend). */
  metadata: Record<string, string>;
}

/** Reads `model.safetensors` written by the `train` stage; errors name the file and the key. */
export async function loadModel(path: string): Promise<LoadedModel> {
  const { tensors, metadata } = await readSafeTensors(path);
  const { mu, W } = tensors;
  if (!mu || !W) throw new Error(`${path}: needs tensors mu and W, found ${Object.keys(tensors)}`);
  const [components, pixels, latentDim] = W.shape;
  if (W.shape.length !== 3 || mu.shape.join() !== [components, pixels].join()) {
    throw new Error(`${path}: mu [${mu.shape}] and W [${W.shape}] should be [K,D] and [K,D,E]`);
  }
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(metadata.params ?? "");
  } catch {
    throw new Error(`${path}: __metadata__.params must be the training params as JSON`);
  }
  const { steps, beta, latent_decay } = params;
  if (typeof steps !== "number" || typeof beta !== "number" || typeof latent_decay !== "number") {
    throw new Error(`${path}: __metadata__.params needs numeric steps, beta and latent_decay`);
  }
  return {
    components,
    latentDim,
    pixels,
    mu: mu.data,
    W: W.data,
    encoder: { steps, beta, latentDecay: latent_decay },
    metadata,
  };
}

/**
 * The batched forward pass of parameters over `n` images (row-major n×D): reconstructions,
 * the chosen component of each image and each image's mean squared error over pixels.
 */
export function reconstructWith(
  params: Params,
  encoder: Encoder,
  images: Float32Array,
  n: number,
  batchSize = 1000,
): { recon: Float32Array; choice: Int32Array; sqErr: Float32Array } {
  const D = params.mu.shape[1];
  const recon = new Float32Array(n * D);
  const choice = new Int32Array(n);
  const sqErr = new Float32Array(n);
  eachBatch(images, n, D, batchSize, (x, start) => {
    const out = forward(params, x, encoder);
    recon.set(out.recon.dataSync(), start * D);
    choice.set(out.choice.dataSync(), start);
    sqErr.set(out.sqErr.dataSync(), start);
  });
  return { recon, choice, sqErr };
}

/**
 * The chosen component and the mean squared error of each of `n` images (row-major n×D), as
 * {@link reconstructWith} gives them, without keeping the reconstructions.
 */
export function errorsWith(
  params: Params,
  encoder: Encoder,
  images: Float32Array,
  n: number,
  batchSize = 1000,
): { choice: Int32Array; sqErr: Float32Array } {
  const choice = new Int32Array(n);
  const sqErr = new Float32Array(n);
  eachBatch(images, n, params.mu.shape[1], batchSize, (x, start) => {
    const out = forward(params, x, encoder);
    choice.set(out.choice.dataSync(), start);
    sqErr.set(out.sqErr.dataSync(), start);
  });
  return { choice, sqErr };
}

/** The chosen component k* of each of `n` images (row-major n×D), by the encoder alone. */
export function chooseWith(
  params: Params,
  encoder: Encoder,
  images: Float32Array,
  n: number,
  batchSize = 1000,
): Int32Array {
  const choice = new Int32Array(n);
  eachBatch(images, n, params.mu.shape[1], batchSize, (x, start) => {
    choice.set(encode(params, x, encoder).choice.dataSync(), start);
  });
  return choice;
}

/** Calls `f` inside tf.tidy on each batch of up to `batchSize` of `n` images of D pixels. */
function eachBatch(
  images: Float32Array,
  n: number,
  D: number,
  batchSize: number,
  f: (x: tf.Tensor2D, start: number) => void,
): void {
  if (images.length !== n * D) {
    throw new Error(`reconstruct: ${images.length} values are not ${n} images of ${D} pixels`);
  }
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    tf.tidy(() => f(tf.tensor2d(images.subarray(start * D, (start + rows) * D), [rows, D]), start));
  }
}

/** {@link reconstructWith} for a model read by {@link loadModel}. */
export function reconstruct(
  model: LoadedModel,
  images: Float32Array,
  n: number,
): { recon: Float32Array; choice: Int32Array; sqErr: Float32Array } {
  const { components: K, pixels: D, latentDim: E } = model;
  const params = { mu: tf.tensor2d(model.mu, [K, D]), W: tf.tensor3d(model.W, [K, D, E]) };
  try {
    return reconstructWith(params, model.encoder, images, n);
  } finally {
    tf.dispose([params.mu, params.W]);
  }
}
