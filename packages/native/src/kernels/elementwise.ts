// Element-wise kernels: broadcasting binary ops, unary math, fused activations,
// batch-norm inference/normalisation, AddN and Transpose.
import {
  Abs, Add, AddN, backend_util, Equal, Exp, Greater, GreaterEqual, Less, LessEqual, NotEqual, FusedBatchNorm, Log, Maximum, Minimum, Multiply, Neg, RealDiv, Reciprocal, Relu, Relu6,
  Rsqrt, Sigmoid, Softmax, Sqrt, Square, SquaredDifference, Step, Sub, Tanh, Transpose,
  type FusedBatchNormAttrs, type SoftmaxAttrs, type StepAttrs, type TensorInfo, type TransposeAttrs,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { f32, output, sizeOf, type NativeKernel } from './util.js';

/** Op codes of csrc/elementwise.cc. */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, squaredDifference: 6 } as const;
export const CompareOp = { equal: 7, notEqual: 8, greater: 9, greaterEqual: 10, less: 11, lessEqual: 12 } as const;
export const UnaryOp = {
  relu: 0, sigmoid: 1, step: 2, exp: 3, log: 4, neg: 5, sqrt: 6, rsqrt: 7, square: 8, abs: 9, tanh: 10, relu6: 11, reciprocal: 12,
} as const;

/** Activations the fused kernels can apply natively; others fall back to the cpu kernel. */
export const NATIVE_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'sigmoid']);

export function binaryKernel(op: number): NativeKernel {
  return ({ inputs, backend }, native) => {
    const { a, b } = inputs as Record<string, TensorInfo>;
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return null;
    const shape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const [out, ov] = output(backend, shape);
    native.binary(op, av, a!.shape, bv, b!.shape, ov, shape);
    return out;
  };
}

/** Comparisons of two float32 tensors; the result is a bool tensor (Uint8Array of 0/1, as the cpu backend stores bool). */
export function compareKernel(op: number): NativeKernel {
  return ({ inputs, backend }, native) => {
    const { a, b } = inputs as Record<string, TensorInfo>;
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return null;
    const shape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    const values = new Uint8Array(sizeOf(shape));
    native.binary(op, av, a!.shape, bv, b!.shape, values, shape);
    return backend.makeTensorInfo(shape, 'bool', values);
  };
}

export function unaryKernel(op: number): NativeKernel {
  return ({ inputs, backend, attrs }, native) => {
    const { x } = inputs as Record<string, TensorInfo>;
    const xv = f32(backend, x);
    if (!xv) return null;
    const [out, ov] = output(backend, [...x!.shape]);
    native.unary(op, xv, ov, (attrs as unknown as StepAttrs | undefined)?.alpha ?? 0);
    return out;
  };
}

/** Applies a fused activation (one of NATIVE_ACTIVATIONS) to a float32 tensor, returning a new tensor. */
export function applyActivation(backend: MathBackendCPU, native: NativeAddon, x: TensorInfo, activation: string): TensorInfo {
  const op = activation === 'relu' ? UnaryOp.relu : activation === 'relu6' ? UnaryOp.relu6 : activation === 'sigmoid' ? UnaryOp.sigmoid : -1;
  if (op < 0) throw new Error(`@rcmnet/native: activation ${activation} is not native (callers must check NATIVE_ACTIVATIONS)`);
  const [out, ov] = output(backend, [...x.shape]);
  native.unary(op, f32(backend, x)!, ov, 0);
  return out;
}

export const fusedBatchNorm: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
  const xv = f32(backend, x), mv = f32(backend, mean), vv = f32(backend, variance);
  const ov = offset ? f32(backend, offset) : null, sv = scale ? f32(backend, scale) : null;
  if (!xv || !mv || !vv || (offset && !ov) || (scale && !sv)) return null;
  const channels = x!.shape[x!.shape.length - 1] ?? 1;
  const fits = (v: Float32Array | null) => v === null || v.length === 1 || v.length === channels;
  if (!fits(mv) || !fits(vv) || !fits(ov) || !fits(sv)) return null;
  // A per-channel vector must also be shaped so it broadcasts over the last axis.
  for (const t of [mean, variance, offset, scale]) if (t && t.shape.slice(0, -1).some((d) => d !== 1)) return null;
  const eps = (attrs as unknown as FusedBatchNormAttrs).varianceEpsilon ?? 0.001;
  const [out, outV] = output(backend, [...x!.shape]);
  native.batchNorm(xv, channels, mv, vv, ov, sv, eps, outV);
  return out;
};

export const addN: NativeKernel = ({ inputs, backend }, native) => {
  const list = inputs as TensorInfo[];
  const first = list[0];
  if (!first) return null;
  const values: Float32Array[] = [];
  for (const t of list) {
    const v = f32(backend, t);
    if (!v || t.shape.length !== first.shape.length || t.shape.some((d, i) => d !== first.shape[i])) return null;
    values.push(v);
  }
  const [out, ov] = output(backend, [...first.shape]);
  native.addN(values, ov);
  return out;
};

/** Every axis of a rank-`rank` tensor exactly once. */
export function isPermutation(perm: readonly number[], rank: number): boolean {
  return perm.length === rank && new Set(perm).size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank);
}

export const transpose: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, x);
  if (!xv || x!.shape.length === 0) return null;
  const perm = (attrs as unknown as TransposeAttrs).perm;
  // tfjs checks each entry's range but not that perm is a permutation ([0, 0] passes): leave such
  // a call to the reference kernel, which reports or computes it, rather than read out of bounds.
  if (!isPermutation(perm, x!.shape.length)) return null;
  const shape = perm.map((p) => x!.shape[p]!);
  const [out, ov] = output(backend, shape);
  native.transpose(xv, x!.shape, perm, ov);
  return out;
};

/** Softmax over the last axis (the only one the cpu backend supports either). */
export const softmax: NativeKernel = ({ inputs, backend, attrs }, native) => {
  const { logits } = inputs as Record<string, TensorInfo>;
  const xv = f32(backend, logits);
  const rank = logits!.shape.length;
  const dim = (attrs as unknown as SoftmaxAttrs).dim;
  if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const [out, ov] = output(backend, [...logits!.shape]);
  native.softmax(xv, logits!.shape[rank - 1]!, ov);
  return out;
};

export const elementwiseKernels: Record<string, NativeKernel> = {
  [Add]: binaryKernel(BinaryOp.add),
  [Sub]: binaryKernel(BinaryOp.sub),
  [Multiply]: binaryKernel(BinaryOp.mul),
  [RealDiv]: binaryKernel(BinaryOp.div),
  [Maximum]: binaryKernel(BinaryOp.max),
  [Minimum]: binaryKernel(BinaryOp.min),
  [SquaredDifference]: binaryKernel(BinaryOp.squaredDifference),
  [Equal]: compareKernel(CompareOp.equal),
  [NotEqual]: compareKernel(CompareOp.notEqual),
  [Greater]: compareKernel(CompareOp.greater),
  [GreaterEqual]: compareKernel(CompareOp.greaterEqual),
  [Less]: compareKernel(CompareOp.less),
  [LessEqual]: compareKernel(CompareOp.lessEqual),
  [Relu]: unaryKernel(UnaryOp.relu),
  [Sigmoid]: unaryKernel(UnaryOp.sigmoid),
  [Step]: unaryKernel(UnaryOp.step),
  [Exp]: unaryKernel(UnaryOp.exp),
  [Log]: unaryKernel(UnaryOp.log),
  [Neg]: unaryKernel(UnaryOp.neg),
  [Sqrt]: unaryKernel(UnaryOp.sqrt),
  [Rsqrt]: unaryKernel(UnaryOp.rsqrt),
  [Square]: unaryKernel(UnaryOp.square),
  [Abs]: unaryKernel(UnaryOp.abs),
  [Tanh]: unaryKernel(UnaryOp.tanh),
  [Relu6]: unaryKernel(UnaryOp.relu6),
  [Reciprocal]: unaryKernel(UnaryOp.reciprocal),
  [FusedBatchNorm]: fusedBatchNorm,
  [AddN]: addN,
  [Transpose]: transpose,
  [Softmax]: softmax,
};
