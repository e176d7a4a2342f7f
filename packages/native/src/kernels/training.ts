// Fused training kernels (csrc/training.cc) under the op names that
// @rcmnet/model's fusedOps.ts defines and falls back from: an Adam(W) update and
// batch normalisation with batch statistics, forward and gradient; and the
// one-pass Relu gradient that gradients.ts installs (see FusedKernel in util.ts).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { RELU_GRAD } from '../gradients.js';
import { f32Input as values, output, type FusedKernel } from './util.js';

export const ADAM_UPDATE = 'RcmnetAdamUpdate';
export const BATCH_NORM_TRAIN = 'RcmnetBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'RcmnetBatchNormTrainGrad';

const adamUpdate: FusedKernel = ({ inputs, backend, attrs }, native) => {
  const { variable, m, v, grad } = inputs as Record<string, TensorInfo>;
  const shape = [...variable!.shape];
  const [w2, w2v] = output(backend, shape), [m2, m2v] = output(backend, shape), [v2, v2v] = output(backend, shape);
  native.adamUpdate(values(backend, variable, 'variable'), values(backend, m, 'm'), values(backend, v, 'v'), values(backend, grad, 'grad'),
    w2v, m2v, v2v, (attrs as { params: number[] }).params);
  return [w2, m2, v2];
};

const batchNormTrain: FusedKernel = ({ inputs, backend, attrs }, native) => {
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const channels = x!.shape[x!.shape.length - 1]!;
  const [y, yv] = output(backend, [...x!.shape]), [mean, meanV] = output(backend, [channels]), [variance, varV] = output(backend, [channels]);
  native.batchNormTrain(values(backend, x, 'x'), channels, values(backend, gamma, 'gamma'), values(backend, beta, 'beta'),
    (attrs as { epsilon: number }).epsilon, yv, meanV, varV);
  return [y, mean, variance];
};

const batchNormTrainGrad: FusedKernel = ({ inputs, backend, attrs }, native) => {
  const { dy, x, mean, variance, gamma, dMean, dVariance } = inputs as Record<string, TensorInfo>;
  const channels = x!.shape[x!.shape.length - 1]!;
  const [dx, dxV] = output(backend, [...x!.shape]), [dgamma, dgV] = output(backend, [channels]), [dbeta, dbV] = output(backend, [channels]);
  native.batchNormTrainGrad(values(backend, dy, 'dy'), values(backend, x, 'x'), channels, values(backend, mean, 'mean'),
    values(backend, variance, 'variance'), values(backend, gamma, 'gamma'), values(backend, dMean, 'dMean'),
    values(backend, dVariance, 'dVariance'), (attrs as { epsilon: number }).epsilon, dxV, dgV, dbV);
  return [dx, dgamma, dbeta];
};

const reluGrad: FusedKernel = ({ inputs, backend }, native) => {
  const { dy, x } = inputs as Record<string, TensorInfo>;
  const [dx, dxV] = output(backend, [...x!.shape]);
  native.reluGrad(values(backend, dy, 'dy'), values(backend, x, 'x'), dxV);
  return [dx];
};

export const trainingKernels: Readonly<Record<string, FusedKernel>> = {
  [ADAM_UPDATE]: adamUpdate,
  [BATCH_NORM_TRAIN]: batchNormTrain,
  [BATCH_NORM_TRAIN_GRAD]: batchNormTrainGrad,
  [RELU_GRAD]: reluGrad,
};
