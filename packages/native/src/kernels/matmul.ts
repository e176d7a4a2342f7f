// Batched matrix multiply (oneDNN sgemm) and _FusedMatMul (+ bias, activation).
import {
  _FusedMatMul, backend_util, BatchMatMul,
  type _FusedMatMulAttrs, type BatchMatMulAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { applyActivation, BinaryOp, NATIVE_ACTIVATIONS } from './elementwise.js';
import { f32, output, sizeOf, type NativeKernel } from './util.js';

function matmul(backend: MathBackendCPU, native: NativeAddon, a: TensorInfo, b: TensorInfo, transposeA: boolean,
  transposeB: boolean): TensorInfo | null {
  const av = f32(backend, a), bv = f32(backend, b);
  const ra = a.shape.length, rb = b.shape.length;
  if (!av || !bv || ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const k2 = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== k2) return null; // let the cpu kernel raise its own error message
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA), batchB = sizeOf(outerB);
  const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  // Only "same batch" or "one side broadcast whole" map onto the addon's loop.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const [out, ov] = output(backend, [...outer, m, n]);
  if (k === 0) ov.fill(0);
  else if (ov.length > 0) native.matmul(av, bv, ov, batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0);
  return out;
}

export const batchMatMul: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { a, b } = inputs as Record<string, TensorInfo>;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  return matmul(backend, native, a!, b!, transposeA, transposeB);
};

export const fusedMatMul: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { a, b, bias } = inputs as Record<string, TensorInfo | undefined>;
  const { transposeA, transposeB, activation } = attrs as unknown as _FusedMatMulAttrs;
  if (!NATIVE_ACTIVATIONS.has(activation ?? 'linear')) return null;
  const biasV = bias ? f32(backend, bias) : null;
  if (bias && !biasV) return null;
  let result = matmul(backend, native, a!, b!, transposeA, transposeB);
  if (!result) return null;
  if (bias) {
    const [withBias, wv] = output(backend, backend_util.assertAndGetBroadcastShape(result.shape, bias.shape));
    native.binary(BinaryOp.add, f32(backend, result)!, result.shape, biasV!, bias.shape, wv, withBias.shape);
    backend.disposeIntermediateTensorInfo(result);
    result = withBias;
  }
  if (activation && activation !== 'linear') {
    const activated = applyActivation(backend, native, result, activation);
    backend.disposeIntermediateTensorInfo(result);
    result = activated;
  }
  return result;
};

export const matmulKernels: Record<string, NativeKernel> = {
  [BatchMatMul]: batchMatMul,
  [_FusedMatMul]: fusedMatMul,
};
