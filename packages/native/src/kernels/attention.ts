// Fused CBAM attention kernels (csrc/attention.cc) under the op names that
// @rcmnet/model's fusedOps.ts defines and falls back from: the channel gate's
// pooled descriptors, the spatial gate's channel-pooled maps of the gated features,
// and applying both gates; each with its gradient.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { f32Input as values, output, type FusedKernel } from './util.js';

export const SPATIAL_AVG_MAX = 'RcmnetSpatialAvgMax';
export const SPATIAL_AVG_MAX_GRAD = 'RcmnetSpatialAvgMaxGrad';
export const GATED_CHANNEL_AVG_MAX = 'RcmnetGatedChannelAvgMax';
export const GATED_CHANNEL_AVG_MAX_GRAD = 'RcmnetGatedChannelAvgMaxGrad';
export const GATE_APPLY = 'RcmnetGateApply';
export const GATE_APPLY_GRAD = 'RcmnetGateApplyGrad';

/** Batch, positions (H * W) and channels of an NHWC tensor. */
function dims(x: TensorInfo | undefined): [number, number, number] {
  if (!x || x.shape.length !== 4) throw new Error('@rcmnet/native: CBAM kernels take a rank-4 NHWC x');
  const [b, h, w, c] = x.shape as [number, number, number, number];
  return [b, h * w, c];
}

const spatialAvgMax: FusedKernel = ({ inputs, backend }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [out, outV] = output(backend, [2 * b, c]);
  native.spatialAvgMax(values(backend, x, 'x'), b, hw, c, outV);
  return [out];
};

const spatialAvgMaxGrad: FusedKernel = ({ inputs, backend }, native) => {
  const { dy, x, pooled } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [dx, dxV] = output(backend, [...x!.shape]);
  native.spatialAvgMaxGrad(values(backend, dy, 'dy'), values(backend, x, 'x'), values(backend, pooled, 'pooled'), b, hw, c, dxV);
  return [dx];
};

const gatedChannelAvgMax: FusedKernel = ({ inputs, backend }, native) => {
  const { x, gate } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [out, outV] = output(backend, [...x!.shape.slice(0, 3), 2]);
  native.gatedChannelAvgMax(values(backend, x, 'x'), values(backend, gate, 'gate'), b, hw, c, outV);
  return [out];
};

const gatedChannelAvgMaxGrad: FusedKernel = ({ inputs, backend }, native) => {
  const { dy, x, gate } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [dx, dxV] = output(backend, [...x!.shape]), [dgate, dgateV] = output(backend, [b, c]);
  native.gatedChannelAvgMaxGrad(values(backend, dy, 'dy'), values(backend, x, 'x'), values(backend, gate, 'gate'), b, hw, c, dxV, dgateV);
  return [dx, dgate];
};

const gateApply: FusedKernel = ({ inputs, backend }, native) => {
  const { x, channelGate, spatialGate } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [y, yV] = output(backend, [...x!.shape]);
  native.gateApply(values(backend, x, 'x'), values(backend, channelGate, 'channelGate'), values(backend, spatialGate, 'spatialGate'), b, hw, c, yV);
  return [y];
};

const gateApplyGrad: FusedKernel = ({ inputs, backend }, native) => {
  const { dy, x, channelGate, spatialGate } = inputs as Record<string, TensorInfo>;
  const [b, hw, c] = dims(x);
  const [dx, dxV] = output(backend, [...x!.shape]);
  const [dChannel, dChannelV] = output(backend, [...channelGate!.shape]), [dSpatial, dSpatialV] = output(backend, [...spatialGate!.shape]);
  native.gateApplyGrad(values(backend, dy, 'dy'), values(backend, x, 'x'), values(backend, channelGate, 'channelGate'),
    values(backend, spatialGate, 'spatialGate'), b, hw, c, dxV, dChannelV, dSpatialV);
  return [dx, dChannel, dSpatial];
};

export const attentionKernels: Readonly<Record<string, FusedKernel>> = {
  [SPATIAL_AVG_MAX]: spatialAvgMax,
  [SPATIAL_AVG_MAX_GRAD]: spatialAvgMaxGrad,
  [GATED_CHANNEL_AVG_MAX]: gatedChannelAvgMax,
  [GATED_CHANNEL_AVG_MAX_GRAD]: gatedChannelAvgMaxGrad,
  [GATE_APPLY]: gateApply,
  [GATE_APPLY_GRAD]: gateApplyGrad,
};
