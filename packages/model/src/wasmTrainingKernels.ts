/**
 * Training kernels for `@tensorflow/tfjs-backend-wasm`.
 *
 * The wasm backend ships no `Conv2DBackpropFilter` (conv nets cannot train at all) and a
 * `Conv2DBackpropInput` that runs at ~1.2 GFLOP/s, while its forward Conv2D (XNNPACK)
 * runs at ~15 GFLOP/s on this machine. Both gradients are rewritten here as forward
 * convolutions, measured at 9.5 GFLOP/s (filter) on a 16x32x32x64 3x3 layer:
 *  - filter gradient = conv(x^T, dy^T) with dilation = stride (batch becomes channels),
 *  - input gradient  = conv(zero-dilated, padded dy, 180°-rotated filter).
 * Kernels receive TensorInfos; they are wrapped as Tensors with an extra backend
 * reference so that disposing the wrappers never frees the caller's data.
 */
import { tf } from './tf.js';

type Info = tf.TensorInfo;
interface KernelArgs {
  inputs: Record<string, Info>;
  backend: tf.KernelBackend;
  attrs?: Record<string, unknown>;
}
type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function wrap(info: Info, backend: tf.KernelBackend): tf.Tensor {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/** Returns `result` as a kernel output: ownership moves to the engine's new wrapper. */
function hand(result: tf.Tensor, backend: tf.KernelBackend): Info {
  backend.incRef(result.dataId);
  const out = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return out;
}

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>) {
  const strides = attrs['strides'] as [number, number] | number;
  const pad = attrs['pad'] as PadAttr;
  const dataFormat = (attrs['dataFormat'] as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`wasm training kernels support NHWC only, got ${dataFormat}`);
  const dimRoundingMode = attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  const c = convInfo(x.shape, filterShape, attrs);
  return tf.tidy(() => {
    const { top, bottom, left, right } = c.padInfo;
    let xp: tf.Tensor4D = top || bottom || left || right ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]) : x;
    const rows = (c.outHeight - 1) * c.strideHeight + c.filterHeight;
    const cols = (c.outWidth - 1) * c.strideWidth + c.filterWidth;
    if (xp.shape[1] !== rows || xp.shape[2] !== cols) xp = tf.slice(xp, [0, 0, 0, 0], [-1, rows, cols, -1]);
    const xT = tf.transpose(xp, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    const g = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', [c.strideHeight, c.strideWidth]);
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], attrs: Record<string, unknown>): tf.Tensor4D {
  const c = convInfo(inputShape, filter.shape, attrs);
  return tf.tidy(() => {
    const [b, oh, ow, co] = dy.shape;
    const sh = c.strideHeight;
    const sw = c.strideWidth;
    let d: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      // Insert stride-1 zeros between output positions (the transposed convolution's input).
      const r = tf.reshape(dy, [b, oh, 1, ow, 1, co]);
      const p = tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      d = tf.slice(tf.reshape(p, [b, oh * sh, ow * sw, co]) as tf.Tensor4D, [0, 0, 0, 0], [-1, (oh - 1) * sh + 1, (ow - 1) * sw + 1, -1]);
    }
    const kh = c.filterHeight;
    const kw = c.filterWidth;
    const dp = tf.pad(d, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]);
    const wFlip = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    let full: tf.Tensor4D = tf.conv2d(dp, wFlip, 1, 'valid');
    // `full` covers padded-input rows 0..(oh-1)*sh+kh-1; crop the padding and zero-fill
    // rows the forward convolution never read.
    const [, H, W] = inputShape as [number, number, number, number];
    const { top, left } = c.padInfo;
    const fullH = full.shape[1];
    const fullW = full.shape[2];
    const extraH = Math.max(0, top + H - fullH);
    const extraW = Math.max(0, left + W - fullW);
    if (extraH || extraW) full = tf.pad(full, [[0, 0], [0, extraH], [0, extraW], [0, 0]]);
    return tf.slice(full, [0, top, left, 0], [-1, H, W, -1]);
  });
}

let registered = false;

/** Registers (idempotently) the fast training kernels on the `wasm` backend. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
      const a = attrs ?? {};
      const x = wrap(inputs['x']!, backend) as tf.Tensor4D;
      const dy = wrap(inputs['dy']!, backend) as tf.Tensor4D;
      try {
        return hand(conv2dFilterGrad(x, dy, a['filterShape'] as number[], a), backend);
      } finally {
        x.dispose();
        dy.dispose();
      }
    },
  } as unknown as tf.KernelConfig);
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
      const a = attrs ?? {};
      const dy = wrap(inputs['dy']!, backend) as tf.Tensor4D;
      const filter = wrap(inputs['filter']!, backend) as tf.Tensor4D;
      try {
        return hand(conv2dInputGrad(dy, filter, a['inputShape'] as number[], a), backend);
      } finally {
        dy.dispose();
        filter.dispose();
      }
    },
  } as unknown as tf.KernelConfig);
}
