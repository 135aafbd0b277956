/**
 * One optimizer step of LGAE/LLGAE training: the loss of a batch (mean over pixels and batch of
 * the chosen component's squared error, gradients through the T encoder steps), then the
 * optimizer's update of μ and W. Used by the `train` stage and by the cross-framework test
 * (tests/torch_reference_test.ts), so both run the same code.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Encoder, loss, type Params } from "./model.ts";

/** What a step needs. */
export interface StepInputs {
  /** μ and W as variables. */
  model: Params;
  optimizer: tf.Optimizer;
  encoder: Encoder;
  /** The batch [B, D]; the caller keeps ownership. */
  x: tf.Tensor2D;
}

/** Updates μ and W by one optimizer step on `x`; returns the batch's loss before the update. */
export function optimizerStep({ model, optimizer, encoder, x }: StepInputs): number {
  const cost = optimizer.minimize(() => loss(model, x, encoder), true)!;
  const value = cost.dataSync()[0];
  cost.dispose();
  return value;
}
