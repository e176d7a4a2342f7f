// Shared plumbing for native kernels: reading cpu-backend tensors as
// Float32Arrays without copying, and falling back to the cpu kernel for cases
// the addon does not cover (non-float dtypes, NCHW, unusual broadcasts).
import { getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import type { BufferPool } from '../bufferPool.js';

export type KernelArgs = { inputs: Record<string, TensorInfo | undefined> | TensorInfo[]; backend: MathBackendCPU; attrs?: NamedAttrMap };
export type NativeKernel = (args: KernelArgs, native: NativeAddon) => TensorInfo | TensorInfo[] | null;

/** The float32 values of a tensor held by the cpu backend, or null when it is not plain float32 data. */
export function f32(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : null;
}

/**
 * A fused op's kernel (kernels/training.ts, kernels/attention.ts): no cpu-backend
 * counterpart to fall back on, so an uncovered case is an error; the model only
 * calls them with float32 tensors.
 */
export type FusedKernel = (args: KernelArgs, native: NativeAddon) => TensorInfo[];

/** A fused op's float32 input, or a clear error naming it. */
export function f32Input(backend: MathBackendCPU, t: TensorInfo | undefined, what: string): Float32Array {
  const v = f32(backend, t);
  if (!v) throw new Error(`@rcmnet/native: ${what} must be a float32 tensor`);
  return v;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A float32 output tensor and its storage, which the addon must overwrite
 * completely: pooled buffers come back with stale contents.
 */
export function output(backend: MathBackendCPU, shape: number[]): [TensorInfo, Float32Array] {
  const pool = (backend as { pool?: BufferPool }).pool;
  const values = pool ? pool.take(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  return [backend.makeTensorInfo(shape, 'float32', values), values];
}

/**
 * Wraps a native implementation as a kernel config for `backendName`. When the
 * native function returns null (case not covered), the cpu backend's own
 * kernel runs instead, so behaviour never depends on coverage.
 */
export function nativeKernelConfig(kernelName: string, backendName: string, impl: NativeKernel, native: NativeAddon): KernelConfig {
  const cpu = getKernel(kernelName, 'cpu');
  if (!cpu) throw new Error(`@rcmnet/native: the cpu backend has no ${kernelName} kernel to fall back on`);
  const cpuFunc = cpu.kernelFunc;
  const kernelFunc = ((args: KernelArgs) => impl(args, native) ?? cpuFunc(args as Parameters<KernelFunc>[0])) as unknown as KernelFunc;
  return { kernelName, backendName, kernelFunc };
}
