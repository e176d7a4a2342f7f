// Reductions (Sum, Mean, Max, Min) over any contiguous block of axes, without
// the transpose the cpu backend performs first.
import { backend_util, Max, Mean, Min, Sum, util, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { f32, output, type NativeKernel } from './util.js';

const ReduceOp = { sum: 0, max: 1, mean: 2, min: 3 } as const;

/**
 * Collapses `shape` into [A, B, C] where B is the product of the reduced axes,
 * or returns null when the reduced axes (ignoring size-1 dims) are not contiguous.
 */
export function reductionBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const reduced = new Set(axes);
  let a = 1, b = 1, c = 1;
  let phase = 0; // 0: before the reduced block, 1: inside it, 2: after it
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    if (reduced.has(d)) {
      if (phase === 2) return null;
      phase = 1;
      b *= n;
    } else if (phase === 0) {
      a *= n;
    } else {
      phase = 2;
      c *= n;
    }
  }
  return [a, b, c];
}

function reduceKernel(op: number): NativeKernel {
  return ({ inputs, backend, attrs }, native) => {
    const { x } = inputs as Record<string, TensorInfo>;
    const xv = f32(backend, x);
    if (!xv) return null;
    // Max and Min name their axes `reductionIndices`; Sum and Mean say `axis`.
    const a = attrs as unknown as SumAttrs & { reductionIndices?: number | number[] };
    const axes = util.parseAxisParam(a.reductionIndices ?? a.axis, x!.shape);
    const keepDims = a.keepDims;
    const block = reductionBlock(x!.shape, axes);
    if (!block || xv.length === 0) return null;
    const [outShape] = backend_util.computeOutAndReduceShapes(x!.shape, axes);
    const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    const [out, ov] = output(backend, shape);
    native.reduce(op, xv, block[0], block[1], block[2], ov);
    return out;
  };
}

export const reduceKernels: Record<string, NativeKernel> = {
  [Sum]: reduceKernel(ReduceOp.sum),
  [Mean]: reduceKernel(ReduceOp.mean),
  [Max]: reduceKernel(ReduceOp.max),
  [Min]: reduceKernel(ReduceOp.min),
};
