// Loads the compiled oneDNN addon, building it first when the npm install step
// did not (npm 11 can skip install scripts; sources may have changed since).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { addonPath, buildAddon, missingPrerequisite } from '../scripts/build.mjs';

/** The C++ functions (csrc/addon.cc). All tensors are Float32Arrays read and written in place. */
export interface NativeAddon {
  /** With wantPrepared, returns the filter reordered for this geometry (pass it back as `prepared`); undefined if none is needed. */
  conv2d(x: Float32Array, xShape: number[], filter: Float32Array, filterShape: number[], bias: Float32Array | null,
    out: Float32Array, outShape: number[], params: number[], activation: number, prepared?: Float32Array | null,
    wantPrepared?: number): Float32Array | undefined;
  conv2dBackpropInput(dy: Float32Array, dyShape: number[], filter: Float32Array, filterShape: number[],
    dx: Float32Array, dxShape: number[], params: number[]): void;
  conv2dBackpropFilter(x: Float32Array, xShape: number[], dy: Float32Array, dyShape: number[],
    dw: Float32Array, filterShape: number[], params: number[]): void;
  /** Arithmetic ops write a Float32Array; comparison ops (codes >= 7) write a Uint8Array of 0/1. */
  binary(op: number, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], out: Float32Array | Uint8Array,
    outShape: number[]): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha?: number): void;
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  batchNorm(x: Float32Array, channels: number, mean: Float32Array, variance: Float32Array, offset: Float32Array | null,
    scale: Float32Array | null, varianceEpsilon: number, out: Float32Array): void;
  addN(inputs: Float32Array[], out: Float32Array): void;
  reduce(op: number, x: Float32Array, a: number, b: number, c: number, out: Float32Array): void;
  transpose(x: Float32Array, shape: number[], perm: number[], out: Float32Array): void;
  maxPool(x: Float32Array, xShape: number[], y: Float32Array, yShape: number[], params: number[]): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, xShape: number[], yShape: number[], params: number[]): void;
  avgPool(x: Float32Array, xShape: number[], y: Float32Array, yShape: number[], params: number[]): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, xShape: number[], yShape: number[], params: number[]): void;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, batchA: number, batchB: number, m: number, n: number, k: number,
    transposeA: number, transposeB: number): void;
  tile(x: Float32Array, xShape: number[], out: Float32Array, outShape: number[]): void;
  slice(x: Float32Array, xShape: number[], begin: number[], out: Float32Array, outShape: number[]): void;
  castToFloat(x: Uint8Array | Int32Array, out: Float32Array): void;
  /** Softmax over the last axis (length `cols`). */
  softmax(x: Float32Array, cols: number, out: Float32Array): void;
  /** params = [lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, decay] (csrc/training.cc). */
  adamUpdate(variable: Float32Array, m: Float32Array, v: Float32Array, grad: Float32Array, outVariable: Float32Array,
    outM: Float32Array, outV: Float32Array, params: number[]): void;
  batchNormTrain(x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array, epsilon: number, y: Float32Array,
    mean: Float32Array, variance: Float32Array): void;
  batchNormTrainGrad(dy: Float32Array, x: Float32Array, channels: number, mean: Float32Array, variance: Float32Array,
    gamma: Float32Array, dMean: Float32Array, dVariance: Float32Array, epsilon: number, dx: Float32Array, dgamma: Float32Array,
    dbeta: Float32Array): void;
  /** CBAM attention (csrc/attention.cc); x is [batch, positions, channels]. */
  spatialAvgMax(x: Float32Array, batch: number, positions: number, channels: number, out: Float32Array): void;
  spatialAvgMaxGrad(dy: Float32Array, x: Float32Array, pooled: Float32Array, batch: number, positions: number, channels: number,
    dx: Float32Array): void;
  gatedChannelAvgMax(x: Float32Array, gate: Float32Array, batch: number, positions: number, channels: number, out: Float32Array): void;
  gatedChannelAvgMaxGrad(dy: Float32Array, x: Float32Array, gate: Float32Array, batch: number, positions: number, channels: number,
    dx: Float32Array, dgate: Float32Array): void;
  gateApply(x: Float32Array, channelGate: Float32Array, spatialGate: Float32Array, batch: number, positions: number, channels: number,
    y: Float32Array): void;
  gateApplyGrad(dy: Float32Array, x: Float32Array, channelGate: Float32Array, spatialGate: Float32Array, batch: number, positions: number,
    channels: number, dx: Float32Array, dChannelGate: Float32Array, dSpatialGate: Float32Array): void;
  /** convLayout: the activation layout of training's backward convolutions (csrc/conv.cc activationTag). */
  info(): { threads: number; dnnl: string; convLayout: string };
  setThreads(threads: number): void;
  /** Element count from which memory-bound loops use all threads (default: never; see csrc/threading.h). */
  setParallelMin(elements: number): void;
  /** oneDNN ops below this many FLOPs run on one thread (default 32e6; see csrc/dnnl_ctx.h). */
  setSingleThreadFlops(flops: number): void;
  /** Activation layout of training's backward convolutions: auto (by ISA, csrc/conv.cc), nhwc or blocked. */
  setConvLayout(layout: 'auto' | 'nhwc' | 'blocked'): void;
}

export type AddonResult = { addon: NativeAddon; path: string } | { addon: null; reason: string };

let pending: Promise<AddonResult> | undefined;

/**
 * Changes with every setting that can make oneDNN pick another convolution implementation, and
 * so another blocked filter layout: a filter reordered before the change must not be reused after
 * it (the addon checks only the prepared buffer's size, and two layouts can have the same size).
 */
export let convSettingsGeneration = 0;

function countingConvSettings(addon: NativeAddon): NativeAddon {
  const counted = <A extends unknown[]>(set: (...args: A) => void) => (...args: A) => {
    set(...args);
    convSettingsGeneration++;
  };
  return {
    ...addon,
    setThreads: counted(addon.setThreads),
    setSingleThreadFlops: counted(addon.setSingleThreadFlops),
    setConvLayout: counted(addon.setConvLayout),
  };
}

/** Builds (once per source version, ~15 s) and loads the addon; never throws. */
export function loadAddon(log: (line: string) => void = console.warn): Promise<AddonResult> {
  pending ??= (async (): Promise<AddonResult> => {
    try {
      let path = addonPath();
      if (!existsSync(path)) {
        // A missing system dependency is reported by the caller's single line, without a build notice first.
        const missing = missingPrerequisite();
        if (missing) return { addon: null, reason: missing };
        log('@rcmnet/native: compiling the oneDNN addon once for this machine (~15-30 s)...');
        path = await buildAddon();
      }
      const addon = withOpenMpWaiting(() => createRequire(import.meta.url)(path) as NativeAddon);
      return { addon: countingConvSettings(addon), path };
    } catch (err) {
      return { addon: null, reason: err instanceof Error ? err.message.split('\n')[0] ?? String(err) : String(err) };
    }
  })();
  return pending;
}

/**
 * How idle OpenMP threads wait, chosen once: libgomp reads its environment when the
 * addon loads it. oneDNN's convolutions synchronise their threads several times per
 * call and a training step runs ~100 of them milliseconds apart, so threads that
 * sleep at once (PASSIVE) pay a wake-up each time: 128 px training 1.2 s/step vs
 * ~0.95 s with a short spin (DNNL_VERBOSE: convolutions 670 vs 450-550 ms). Spinning
 * forever (ACTIVE) would keep an idle API process at 100% of a core, so the spin is
 * bounded: GOMP_SPINCOUNT 1M is ~20 ms here, then the thread sleeps. On a machine
 * that is already busy spinning steals the core another process needs (A/B at load
 * 15-22: 4.8 vs 2.7 img/s), so threads sleep at once. Busy means the 1-minute load
 * average above the core count *and* less than half of the CPU idle over the next
 * 200 ms: the load average lags by a minute, and right after a build or test run it
 * still read 2.3 on an idle 2-core machine, which chose PASSIVE and cost 128 px
 * training ~10% (docs/performance-model.md run 8).
 * The user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins. The variables are removed after
 * loading so that child processes (the PyTorch peer in the benchmarks) keep their own
 * defaults: a peer that inherited PASSIVE measured 40% slower.
 */
export function openMpWaiting(idle: () => number = idleShare): Record<string, string> {
  if (process.env['OMP_WAIT_POLICY'] || process.env['GOMP_SPINCOUNT']) return {};
  const busy = (loadavg()[0] ?? 0) > cpus().length && idle() < 0.5;
  return busy ? { OMP_WAIT_POLICY: 'PASSIVE' } : { GOMP_SPINCOUNT: '1000000' };
}

/** Share of the machine's CPU time that is idle over the next `ms` milliseconds (blocks meanwhile). */
export function idleShare(ms = 200): number {
  const sample = () => {
    let idle = 0, total = 0;
    for (const { times: t } of cpus()) {
      idle += t.idle;
      total += t.user + t.nice + t.sys + t.idle + t.irq;
    }
    return { idle, total };
  };
  const a = sample();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = sample();
  return b.total > a.total ? (b.idle - a.idle) / (b.total - a.total) : 1;
}

/** How OpenMP threads wait in this process (for benchmark records), set when the addon loads. */
export let openMpWaitingInUse = '';
/** Whether OpenMP threads spin before sleeping here (then waking them for a memory-bound loop is cheap). */
export let openMpSpins = false;

function withOpenMpWaiting<T>(load: () => T): T {
  const env = openMpWaiting();
  openMpSpins = env['GOMP_SPINCOUNT'] !== undefined || process.env['OMP_WAIT_POLICY'] === 'ACTIVE';
  openMpWaitingInUse = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') ||
    `user: OMP_WAIT_POLICY=${process.env['OMP_WAIT_POLICY'] ?? ''} GOMP_SPINCOUNT=${process.env['GOMP_SPINCOUNT'] ?? ''}`;
  Object.assign(process.env, env);
  try {
    return load();
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}
