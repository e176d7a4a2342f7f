// Tile, Slice, SplitV, Concat and Cast-to-float32: copies that the cpu backend
// does element by element through index arithmetic in JS.
import {
  backend_util, Cast, Concat, Slice, slice_util, SplitV, Tile, util,
  type CastAttrs, type ConcatAttrs, type SliceAttrs, type SplitVAttrs, type TensorInfo, type TileAttrs,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { f32, output, sizeOf, type NativeKernel } from './util.js';

export const tile: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  const { reps } = attrs as unknown as TileAttrs;
  if (!xv || x!.shape.length === 0 || reps.length !== x!.shape.length) return null;
  const shape = x!.shape.map((d, i) => d * reps[i]!);
  const [out, ov] = output(backend, shape);
  native.tile(xv, x!.shape, ov, shape);
  return out;
};

function nativeSlice(backend: MathBackendCPU, native: NativeAddon, x: TensorInfo, xv: Float32Array, begin: number[],
  size: number[]): TensorInfo {
  const [out, ov] = output(backend, size);
  native.slice(xv, x.shape, begin, ov, size);
  return out;
}

export const slice: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  if (!xv || x!.shape.length === 0) return null;
  const { begin, size } = attrs as unknown as SliceAttrs;
  const [$begin, $size] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x as never, $begin, $size);
  // A contiguous slice is a zero-copy view in the cpu backend: keep that.
  if (slice_util.isSliceContinous(x!.shape, $begin, $size)) return null;
  return nativeSlice(backend, native, x!, xv, $begin, $size);
};

export const splitV: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  if (!xv) return null;
  const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
  const $axis = axis < 0 ? x!.shape.length + axis : axis;
  if (x!.shape.slice(0, $axis).every((d) => d === 1)) return null; // contiguous pieces: cpu views
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const begin = new Array<number>(x!.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x!.shape];
    size[$axis] = s;
    const piece = nativeSlice(backend, native, x!, xv, [...begin], size);
    begin[$axis]! += s;
    return piece;
  });
};

// Concat along an inner axis (SplitV's gradient, e.g. MHSA's q, k, v) copies row
// by row with TypedArray.set: 3 x [256, 512] along axis 1 took the cpu kernel ~2 ms.
// Plain JS, not the addon: set() is already a memcpy. Narrow rows (< 16 floats) copy
// element-wise, where a subarray per row would cost more than it saves.
export const concat: NativeKernel = ({ inputs, backend, attrs }) => {
  const xs = inputs as TensorInfo[];
  const vals = xs.map((t) => f32(backend, t));
  if (xs.length < 2 || vals.some((v) => !v)) return null;
  const shapes = xs.map((t) => t.shape);
  const axis = util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, shapes[0]!)[0]!;
  backend_util.assertParamsConsistent(shapes, axis);
  const outShape = backend_util.computeOutShape(shapes, axis);
  const rows = sizeOf(outShape.slice(0, axis));
  // One row: the cpu kernel already copies each input whole.
  if (rows === 1 || sizeOf(outShape) === 0) return null;
  const [out, ov] = output(backend, outShape);
  const widths = shapes.map((s) => sizeOf(s.slice(axis)));
  const total = widths.reduce((a, b) => a + b, 0);
  let offset = 0;
  widths.forEach((w, i) => {
    const v = vals[i]!;
    if (w >= 16) {
      for (let r = 0; r < rows; r++) ov.set(v.subarray(r * w, r * w + w), r * total + offset);
    } else {
      for (let r = 0; r < rows; r++) for (let c = 0; c < w; c++) ov[r * total + offset + c] = v[r * w + c]!;
    }
    offset += w;
  });
  return out;
};

export const cast: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const { dtype } = attrs as unknown as CastAttrs;
  if (dtype !== 'float32' || (x!.dtype !== 'bool' && x!.dtype !== 'int32')) return null;
  const values = backend.data.get(x!.dataId)?.values;
  if (!(values instanceof Uint8Array) && !(values instanceof Int32Array)) return null;
  const [out, ov] = output(backend, [...x!.shape]);
  native.castToFloat(values, ov);
  return out;
};

export const dataMovementKernels: Record<string, NativeKernel> = {
  [Tile]: tile,
  [Slice]: slice,
  [SplitV]: splitV,
  [Concat]: concat,
  [Cast]: cast,
};
