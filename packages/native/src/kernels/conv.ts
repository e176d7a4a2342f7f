// Convolution kernels on oneDNN: Conv2D, FusedConv2D (bias + relu fused in the
// primitive), and both gradients. NHWC only; NCHW falls back to the cpu kernel.
import {
  backend_util, Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D,
  type Conv2DAttrs, type Conv2DBackpropFilterAttrs, type Conv2DBackpropInputAttrs, type FusedConv2DAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convSettingsGeneration, type NativeAddon } from '../addon.js';
import { applyActivation, NATIVE_ACTIVATIONS } from './elementwise.js';
import { f32, output, sizeOf, type KernelArgs, type NativeKernel } from './util.js';

type Shape4 = [number, number, number, number];

/** [strideH, strideW, padTop, padBottom, padLeft, padRight, dilH, dilW] as the addon expects. */
function convParams(info: backend_util.Conv2DInfo): number[] {
  const p = info.padInfo;
  return [info.strideHeight, info.strideWidth, p.top, p.bottom, p.left, p.right, info.dilationHeight, info.dilationWidth];
}

/**
 * A rounding mode ('ceil', 'round') makes tfjs's output size disagree with the symmetric padding
 * oneDNN is given, so oneDNN would refuse the call: those go to the reference kernel.
 */
const referenceOnly = (attrs: { dataFormat?: string; dimRoundingMode?: string | null }) =>
  attrs.dataFormat === 'NCHW' || attrs.dimRoundingMode != null;

function convInfo(xShape: number[], filterShape: number[], attrs: Conv2DAttrs): backend_util.Conv2DInfo | null {
  if (referenceOnly(attrs)) return null;
  return backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, attrs.strides, attrs.dilations, attrs.pad,
    attrs.dimRoundingMode, false, backend_util.convertConv2DDataFormat(attrs.dataFormat));
}

/**
 * Filters reordered into oneDNN's layout, per filter tensor (its dataId: a
 * tensor's contents never change while its dataId lives, and variable updates
 * get new dataIds) and geometry. A filter is cached only on its second use, so
 * training, where every weight is new each step, allocates nothing extra; in
 * inference the same weights recur batch after batch and skip the reorder.
 */
const preparedFilters = new WeakMap<object, Map<string, Float32Array | 'seen-once'>>();

function runConv(args: KernelArgs, native: NativeAddon, fused: boolean): TensorInfo | null {
  const { backend } = args;
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const x = inputs.x!, filter = inputs.filter!;
  const xv = f32(backend, x), wv = f32(backend, filter);
  if (!xv || !wv) return null;
  const info = convInfo(x.shape, filter.shape, attrs);
  if (!info) return null;
  const activation = fused ? attrs.activation ?? 'linear' : 'linear';
  if (!NATIVE_ACTIVATIONS.has(activation)) return null;
  const bias = fused ? inputs.bias : undefined;
  // Per-channel bias and relu go into the oneDNN primitive; anything else is applied after.
  const biasV = bias ? f32(backend, bias) : null;
  if (bias && !biasV) return null;
  // Only a bias along the channels alone ([C] or [1, …, 1, C]); tfjs also accepts any bias that
  // broadcasts against the output, which is added after the primitive instead.
  const biasFused = biasV !== null && bias!.shape.at(-1) === info.outChannels && bias!.shape.slice(0, -1).every((d) => d === 1);
  const reluFused = activation === 'relu' && (biasFused || !bias);
  const [out, outV] = output(backend, info.outShape);
  const params = convParams(info);
  const geometryKey = `${x.shape}|${filter.shape}|${params}|${biasFused}|${reluFused}|${convSettingsGeneration}`;
  let perFilter = preparedFilters.get(filter.dataId);
  if (!perFilter) preparedFilters.set(filter.dataId, (perFilter = new Map()));
  const cached = perFilter.get(geometryKey);
  const prepared = native.conv2d(xv, x.shape, wv, filter.shape, biasFused ? biasV : null, outV, info.outShape, params,
    reluFused ? 1 : 0, cached instanceof Float32Array ? cached : null, cached === 'seen-once' ? 1 : 0);
  if (prepared) perFilter.set(geometryKey, prepared);
  else if (!cached) perFilter.set(geometryKey, 'seen-once');
  let result = out;
  if (bias && !biasFused) {
    const [withBias, wb] = output(backend, info.outShape);
    native.binary(0, outV, info.outShape, biasV!, bias.shape, wb, info.outShape);
    backend.disposeIntermediateTensorInfo(result);
    result = withBias;
  }
  if (!reluFused && activation !== 'linear') {
    const activated = applyActivation(backend, native, result, activation);
    backend.disposeIntermediateTensorInfo(result);
    result = activated;
  }
  return result;
}

export const conv2D: NativeKernel = (args, native) => runConv(args, native, false);
export const fusedConv2D: NativeKernel = (args, native) => runConv(args, native, true);

export const conv2DBackpropInput: NativeKernel = (args, native) => {
  const { backend } = args;
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const dyV = f32(backend, dy), wV = f32(backend, filter);
  if (!dyV || !wV || referenceOnly(attrs)) return null;
  const info = backend_util.computeConv2DInfo(attrs.inputShape, filter!.shape as Shape4, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, false, 'channelsLast');
  const [dx, dxV] = output(backend, [...attrs.inputShape]);
  native.conv2dBackpropInput(dyV, dy!.shape, wV, filter!.shape, dxV, [...attrs.inputShape], convParams(info));
  return dx;
};

export const conv2DBackpropFilter: NativeKernel = (args, native) => {
  const { backend } = args;
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const xV = f32(backend, x), dyV = f32(backend, dy);
  if (!xV || !dyV || referenceOnly(attrs)) return null;
  const info = backend_util.computeConv2DInfo(x!.shape as Shape4, attrs.filterShape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, false, 'channelsLast');
  const [dw, dwV] = output(backend, [...attrs.filterShape]);
  if (sizeOf(attrs.filterShape) === 0) return dw;
  native.conv2dBackpropFilter(xV, x!.shape, dyV, dy!.shape, dwV, [...attrs.filterShape], convParams(info));
  return dw;
};

export const convKernels: Record<string, NativeKernel> = {
  [Conv2D]: conv2D,
  [FusedConv2D]: fusedConv2D,
  [Conv2DBackpropInput]: conv2DBackpropInput,
  [Conv2DBackpropFilter]: conv2DBackpropFilter,
};
