// Registers the 'native' TensorFlow.js backend: the pure-JS cpu backend (whose
// tensors are plain TypedArrays the addon reads and writes in place) with its
// hot kernels replaced by multi-threaded oneDNN / C++ ones.
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon, openMpSpins, openMpWaitingInUse, type AddonResult, type NativeAddon } from './addon.js';
import { convKernels } from './kernels/conv.js';
import { installFastGradients } from './gradients.js';
import { dataMovementKernels } from './kernels/dataMovement.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matmulKernels } from './kernels/matmul.js';
import { poolKernels } from './kernels/pool.js';
import { reduceKernels } from './kernels/reduce.js';
import { trainingKernels } from './kernels/training.js';
import { attentionKernels } from './kernels/attention.js';

/** Kernels of the fused ops that @rcmnet/model's fusedOps.ts defines. */
export const fusedKernels = { ...trainingKernels, ...attentionKernels };
import { NativeBackendCpu } from './nativeBackendCpu.js';
import { nativeKernelConfig, type KernelArgs, type NativeKernel } from './kernels/util.js';

export const NATIVE_BACKEND_NAME = 'native';

/** Every kernel that runs natively (the rest are the cpu backend's own). */
export const NATIVE_KERNELS: Readonly<Record<string, NativeKernel>> = {
  ...convKernels,
  ...matmulKernels,
  ...poolKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...dataMovementKernels,
};

export interface NativeBackendOptions {
  /** Backend name to register (default 'native'). */
  name?: string;
  /** tfjs priority: the highest-priority registered backend is the default (cpu 1, wasm 2). Default 3. */
  priority?: number;
  /** Threads for oneDNN and the element-wise kernels (default: OpenMP's, i.e. the core count or OMP_NUM_THREADS). */
  threads?: number;
  /** Most bytes of idle output buffers kept for reuse (default 2 GiB; 0 disables reuse). */
  poolMaxFreeBytes?: number;
  /** Where the one-line notices go (default console.warn). */
  log?: (line: string) => void;
}

let loaded: NativeAddon | undefined;

/**
 * Registers the native backend and returns its name, or logs one line and
 * returns null when the addon cannot be built or loaded (callers then use wasm).
 * Safe to call repeatedly.
 */
export async function registerNativeBackend(options: NativeBackendOptions = {}): Promise<string | null> {
  return registerWithAddon(await loadAddon(options.log ?? console.warn), options);
}

/** Registration given a load result (separated so the fallback path is testable on any machine). */
export function registerWithAddon(result: AddonResult, options: NativeBackendOptions = {}): string | null {
  const name = options.name ?? NATIVE_BACKEND_NAME;
  const log = options.log ?? console.warn;
  if (!result.addon) {
    log(`@rcmnet/native: native CPU backend unavailable (${result.reason}); falling back to the wasm backend`);
    return null;
  }
  const native = result.addon;
  loaded = native;
  if (options.threads !== undefined) native.setThreads(options.threads);
  // Memory-bound loops (element-wise, reductions, batch norm, Adam) use every thread
  // from 64K elements when the threads spin (a quiet machine: 128 px training 8-10%
  // faster); with sleeping threads on a busy machine a barrier waiting for a
  // descheduled thread cost 10x, so there they stay on one (csrc/threading.h).
  native.setParallelMin(defaultParallelMin());
  // Likewise oneDNN ops go multi-threaded from 4 MFLOP instead of 32 when waking a
  // thread is cheap (spinning): 64 px training 0.99x vs 0.91x of PyTorch (csrc/dnnl_ctx.h).
  native.setSingleThreadFlops(openMpSpins ? 4e6 : 32e6);
  installFastGradients(name);
  if (tf.findBackendFactory(name)) return name;

  tf.registerBackend(name, () => new NativeBackendCpu(options.poolMaxFreeBytes), options.priority ?? 3);
  for (const config of tf.getKernelsForBackend('cpu')) {
    const impl = NATIVE_KERNELS[config.kernelName];
    tf.registerKernel(impl ? nativeKernelConfig(config.kernelName, name, impl, native) : { ...config, backendName: name });
  }
  // Fused ops (no cpu counterpart; @rcmnet/model falls back to tfjs ops where they are absent).
  for (const [kernelName, impl] of Object.entries(fusedKernels))
    tf.registerKernel({ kernelName, backendName: name, kernelFunc: ((args: KernelArgs) => impl(args, native)) as unknown as tf.KernelFunc });
  return name;
}

/** Elements from which memory-bound loops use every thread: RCMNET_PARALLEL_MIN, else 64K when OpenMP threads spin, else never. */
export function defaultParallelMin(): number {
  const fromEnv = Number(process.env['RCMNET_PARALLEL_MIN']);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  return openMpSpins ? 65536 : 2 ** 40;
}

/** Thread count and oneDNN version of the loaded addon (null before a successful registerNativeBackend). */
export function nativeBackendInfo(): (ReturnType<NativeAddon['info']> & { openMpWaiting: string }) | null {
  return loaded ? { ...loaded.info(), openMpWaiting: openMpWaitingInUse } : null;
}
