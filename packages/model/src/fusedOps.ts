/**
 * Training ops that a backend may run as one fused kernel.
 *
 * Written in tfjs ops, an Adam step is ~12 kernels per variable and a training-mode
 * batch norm ~25 kernels forward and backward, each a full pass over memory: on a CPU
 * backend that was 30% of a training step. A backend can provide each op as a single
 * kernel under the names below (`@rcmnet/native` does, in csrc/training.cc); when the
 * active backend has none, the same maths runs as ordinary tfjs ops. Both paths are
 * tested to agree (packages/native/src/kernels/training.test.ts).
 *
 * Contracts (all float32, channels last):
 * - `RcmnetAdamUpdate` inputs {variable, m, v, grad}, attr `params` =
 *   [lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, decay];
 *   outputs [variable', m', v'].
 * - `RcmnetBatchNormTrain` inputs {x, gamma, beta}, attr `epsilon`;
 *   outputs [y, mean, variance] (batch statistics over all axes but the last, biased variance).
 * - `RcmnetBatchNormTrainGrad` inputs {dy, x, mean, variance, gamma, dMean, dVariance}, attr
 *   `epsilon`; outputs [dx, dgamma, dbeta] (dx through the batch statistics, plus the
 *   gradients dMean and dVariance that reach the statistics as outputs).
 *
 * CBAM attention (x [B, H, W, C]; maxima skip NaN and their gradient goes to the first
 * maximum, as tfjs's max-pool does). As tfjs ops a CBAM block was ~50 kernels and
 * ~20 full-size passes, 12% of an RCMNet training step on the native backend:
 * - `RcmnetSpatialAvgMax` inputs {x}; outputs [pooled [2B, C]]: means over H, W
 *   (rows 0..B-1), then maxima (rows B..2B-1). `…Grad` inputs {dy, x, pooled}; outputs [dx].
 * - `RcmnetGatedChannelAvgMax` inputs {x, gate [B, C]}; outputs [maps [B, H, W, 2]]: mean
 *   and maximum over channels of x * gate. `…Grad` inputs {dy, x, gate}; outputs [dx, dgate].
 * - `RcmnetGateApply` inputs {x, channelGate [B, C], spatialGate [B, H, W, 1]};
 *   outputs [x * channelGate * spatialGate]. `…Grad` inputs {dy, x, channelGate,
 *   spatialGate}; outputs [dx, dChannelGate, dSpatialGate].
 */
import { tf } from './tf.js';

export const ADAM_UPDATE = 'RcmnetAdamUpdate';
export const BATCH_NORM_TRAIN = 'RcmnetBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'RcmnetBatchNormTrainGrad';
export const SPATIAL_AVG_MAX = 'RcmnetSpatialAvgMax';
export const SPATIAL_AVG_MAX_GRAD = 'RcmnetSpatialAvgMaxGrad';
export const GATED_CHANNEL_AVG_MAX = 'RcmnetGatedChannelAvgMax';
export const GATED_CHANNEL_AVG_MAX_GRAD = 'RcmnetGatedChannelAvgMaxGrad';
export const GATE_APPLY = 'RcmnetGateApply';
export const GATE_APPLY_GRAD = 'RcmnetGateApplyGrad';

function fused(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel; every one returns a list of tensors. */
function runFused(kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs) as unknown as tf.Tensor[];
}

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t for step t. */
  biasCorrection1: number;
  biasCorrection2: number;
  /** Decoupled weight decay (AdamW); 0 for none. */
  decay: number;
}

/** One Adam(W) update; returns the new variable value and moments (the caller assigns them). */
export function adamUpdate(variable: tf.Tensor, m: tf.Tensor, v: tf.Tensor, grad: tf.Tensor, s: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (fused(ADAM_UPDATE)) {
    const params = [s.lr, s.beta1, s.beta2, s.epsilon, s.biasCorrection1, s.biasCorrection2, s.decay];
    return runFused(ADAM_UPDATE, { variable, m, v, grad }, { params }) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(grad, 1 - s.beta1));
    const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(grad), 1 - s.beta2));
    let update = tf.div(tf.div(m2, s.biasCorrection1), tf.add(tf.sqrt(tf.div(v2, s.biasCorrection2)), s.epsilon));
    if (s.decay) update = tf.add(update, tf.mul(variable, s.decay));
    return [tf.sub(variable, tf.mul(update, s.lr)), m2, v2] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}

/**
 * Batch normalisation with the batch's own statistics (training mode). Returns the
 * normalised output and the per-channel mean and biased variance, which the caller
 * folds into running averages.
 */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (fused(BATCH_NORM_TRAIN)) {
    const [y, mean, variance] = runFused(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    return { y, mean, variance };
  }
  // Written out instead of tf.batchNorm: the FusedBatchNorm gradient tiles mean and
  // variance to the input shape, which cost ~15% of a wasm training step.
  const mean = tf.mean(x, [0, 1, 2]) as tf.Tensor1D;
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), [0, 1, 2]) as tf.Tensor1D;
  const y = tf.add(tf.mul(centered, tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)))), beta) as tf.Tensor4D;
  return { y, mean, variance };
}

tf.registerGradient({
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    // The engine passes zeros, never null, for outputs off the loss's path: the
    // statistics usually only feed the running averages. Their gradients fold into
    // the kernel's per-channel coefficients, so they cost nothing when zero (as tfjs
    // ops they were four more full-size passes per batch norm).
    const [dy, dMean, dVariance] = dys as tf.Tensor[];
    const [x, gamma, mean, variance] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const epsilon = (attrs as { epsilon: number }).epsilon;
    const [dx, dgamma, dbeta] = runFused(BATCH_NORM_TRAIN_GRAD, { dy: dy!, x, mean, variance, gamma, dMean: dMean!, dVariance: dVariance! }, { epsilon });
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
});

/** Max over the windows of a reshaped view, as tfjs's max-pool (same NaN and tie rules as the fused kernels). */
function maxOverWindow(x: tf.Tensor4D, window: [number, number]): tf.Tensor4D {
  return tf.maxPool(x, window, window, 'valid');
}

/** CBAM's channel-attention descriptors: [2B, C], the means over H and W stacked on the maxima. */
export function spatialAvgMax(x: tf.Tensor4D): tf.Tensor2D {
  if (fused(SPATIAL_AVG_MAX)) return runFused(SPATIAL_AVG_MAX, { x })[0] as tf.Tensor2D;
  const [b, h, w, c] = x.shape;
  return tf.concat([tf.mean(x, [1, 2]), tf.reshape(maxOverWindow(x, [h, w]), [b, c])], 0) as tf.Tensor2D;
}

/** CBAM's spatial-attention input: [B, H, W, 2], the mean and maximum over channels of x * gate ([B, C]). */
export function gatedChannelAvgMax(x: tf.Tensor4D, gate: tf.Tensor2D): tf.Tensor4D {
  if (fused(GATED_CHANNEL_AVG_MAX)) return runFused(GATED_CHANNEL_AVG_MAX, { x, gate })[0] as tf.Tensor4D;
  const [b, h, w, c] = x.shape;
  const xc = tf.mul(x, tf.reshape(gate, [b, 1, 1, c])) as tf.Tensor4D;
  const max = tf.reshape(maxOverWindow(tf.reshape(xc, [b, h * w, c, 1]), [1, c]), [b, h, w, 1]);
  return tf.concat([tf.mean(xc, 3, true), max], 3) as tf.Tensor4D;
}

/**
 * x * channelGate ([B, C]) * spatialGate ([B, H, W, 1]): CBAM's output. Without the
 * fused kernel the fallback multiplies x by the channel gate here and again in
 * gatedChannelAvgMax (one extra pass each way, rather than a third op contract).
 */
export function gateApply(x: tf.Tensor4D, channelGate: tf.Tensor2D, spatialGate: tf.Tensor4D): tf.Tensor4D {
  if (fused(GATE_APPLY)) return runFused(GATE_APPLY, { x, channelGate, spatialGate })[0] as tf.Tensor4D;
  const [b, , , c] = x.shape;
  return tf.mul(tf.mul(x, tf.reshape(channelGate, [b, 1, 1, c])), spatialGate);
}

// Each fused kernel's gradient kernel yields every input's gradient in one pass, so
// it runs in the gradient function itself rather than in the per-input thunks.
tf.registerGradient({
  kernelName: SPATIAL_AVG_MAX,
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [x, pooled] = saved;
    const [dx] = runFused(SPATIAL_AVG_MAX_GRAD, { dy: dy as tf.Tensor, x: x!, pooled: pooled! });
    return { x: () => dx! };
  },
});

tf.registerGradient({
  kernelName: GATED_CHANNEL_AVG_MAX,
  inputsToSave: ['x', 'gate'],
  gradFunc: (dy, saved) => {
    const [x, gate] = saved;
    const [dx, dgate] = runFused(GATED_CHANNEL_AVG_MAX_GRAD, { dy: dy as tf.Tensor, x: x!, gate: gate! });
    return { x: () => dx!, gate: () => dgate! };
  },
});

tf.registerGradient({
  kernelName: GATE_APPLY,
  inputsToSave: ['x', 'channelGate', 'spatialGate'],
  gradFunc: (dy, saved) => {
    const [x, channelGate, spatialGate] = saved;
    const [dx, dChannel, dSpatial] = runFused(GATE_APPLY_GRAD, { dy: dy as tf.Tensor, x: x!, channelGate: channelGate!, spatialGate: spatialGate! });
    return { x: () => dx!, channelGate: () => dChannel!, spatialGate: () => dSpatial! };
  },
});
