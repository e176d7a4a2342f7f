// 2-D pooling (NHWC) and its gradients.
import {
  AvgPool, AvgPoolGrad, backend_util, MaxPool, MaxPoolGrad,
  type AvgPoolAttrs, type MaxPoolAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { f32, output, type NativeKernel } from './util.js';

type Shape4 = [number, number, number, number];

function poolInfo(xShape: number[], attrs: MaxPoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** [kh, kw, sh, sw, padTop, padLeft, dh, dw] as the addon expects. */
function poolParams(info: backend_util.Conv2DInfo): number[] {
  return [info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    info.dilationHeight, info.dilationWidth];
}

export const maxPool: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  if (!xv || x!.shape.length !== 4) return null;
  const info = poolInfo(x!.shape, attrs as unknown as MaxPoolAttrs);
  const [out, ov] = output(backend, info.outShape);
  native.maxPool(xv, x!.shape, ov, info.outShape, poolParams(info));
  return out;
};

export const maxPoolGrad: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { dy, input } = inputs as Record<string, TensorInfo>;
  const dyv = f32(backend, dy), xv = f32(backend, input);
  if (!dyv || !xv || input!.shape.length !== 4) return null;
  const info = poolInfo(input!.shape, attrs as unknown as MaxPoolAttrs);
  const [dx, dxv] = output(backend, [...input!.shape]);
  native.maxPoolGrad(dyv, xv, dxv, input!.shape, info.outShape, poolParams(info));
  return dx;
};

export const avgPool: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  if (!xv || x!.shape.length !== 4) return null;
  const info = poolInfo(x!.shape, attrs as unknown as AvgPoolAttrs);
  const [out, ov] = output(backend, info.outShape);
  native.avgPool(xv, x!.shape, ov, info.outShape, poolParams(info));
  return out;
};

export const avgPoolGrad: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { dy, input } = inputs as Record<string, TensorInfo>;
  const dyv = f32(backend, dy);
  if (!dyv || input!.shape.length !== 4) return null;
  const info = poolInfo(input!.shape, attrs as unknown as MaxPoolAttrs);
  const [dx, dxv] = output(backend, [...input!.shape]);
  native.avgPoolGrad(dyv, dxv, input!.shape, info.outShape, poolParams(info));
  return dx;
};

export const poolKernels: Record<string, NativeKernel> = {
  [MaxPool]: maxPool,
  [MaxPoolGrad]: maxPoolGrad,
  [AvgPool]: avgPool,
  [AvgPoolGrad]: avgPoolGrad,
};
