/**
 * Throughput benchmark: images/s for training steps or inference on random data, per
 * backend, for the full-width RCMNet; optionally side by side with the PyTorch peer script
 * (`../shared/bench/torch_rcmnet.py`, same network shape) in the same run.
 * Other backends plug in through `BACKEND_ORDER` in backend.ts: every available one
 * is measured unless `backends` is given.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Network, archConfig, type ArchName } from './architecture.js';
import { BACKEND_ORDER, BackendUnavailableError, initBackend } from './backend.js';
import { Optimizer } from './optimizer.js';
import { tf } from './tf.js';

const run = promisify(execFile);

export interface BenchOptions {
  size: number;
  mode: 'train' | 'infer';
  batch?: number;
  steps?: number;
  arch?: ArchName;
  widthMultiplier?: number;
  /** Backends to measure (default: every available one except the pure-JS cpu backend). */
  backends?: string[];
  /** Path of the PyTorch peer script; null disables it. */
  torchScript?: string | null;
  threads?: number;
}

export interface BenchResult {
  backend: string;
  mode: 'train' | 'infer';
  size: number;
  batch: number;
  imgPerSec: number;
  arch: ArchName;
  params: number;
  steps: number;
}

export interface PeerResult {
  peer: string;
  threads: number;
  mode: string;
  size: number;
  batch: number;
  img_per_s: number;
  params: number;
}

export function defaultTorchScript(): string {
  // Resolved from the repository root (packages/model/src -> ../../..), i.e. ../shared/bench.
  return path.resolve(import.meta.dirname, '../../../../shared/bench/torch_rcmnet.py');
}

/** A network, data and optimizer set up (and warmed up) on one backend, ready to be timed. */
export interface PreparedBench {
  backend: string;
  arch: ArchName;
  params: number;
  batch: number;
  steps: number;
  /** Images per second over `steps` timed steps. */
  time(): Promise<number>;
  dispose(): void;
}

export async function prepareBench(backend: string, o: BenchOptions): Promise<PreparedBench> {
  const got = await initBackend({ backend, quiet: true });
  const batch = o.batch ?? (o.mode === 'train' ? 16 : 32);
  const steps = o.steps ?? (o.mode === 'train' ? 3 : 5);
  const net = new Network(archConfig(o.arch ?? 'rcmnet', { inputSize: o.size, numClasses: 8, widthMultiplier: o.widthMultiplier, stem: 'imagenet' }));
  const x = tf.randomNormal([batch, o.size, o.size, 3]) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8) as tf.Tensor2D;
  const opt = new Optimizer({ kind: 'adam' });
  const vars = net.params.trainable();
  const nameToKey = new Map([...vars].map(([k, v]) => [v.name, k]));
  const step = async () => {
    if (o.mode === 'infer') {
      const l = tf.tidy(() => net.logits(x, { training: false }));
      await l.data();
      l.dispose();
      return;
    }
    const ctx = { training: true, bnUpdates: [] as { variable: tf.Variable; value: tf.Tensor }[] };
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, net.logits(x, ctx)) as tf.Scalar, [...vars.values()]);
    opt.apply(new Map(Object.entries(grads).map(([n, g]) => [nameToKey.get(n)!, g])), vars, 1e-3);
    for (const u of ctx.bnUpdates) {
      u.variable.assign(u.value);
      u.value.dispose();
    }
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  const dispose = () => {
    opt.dispose();
    net.dispose();
    tf.dispose([x, y]);
  };
  try {
    await step(); // warm-up (kernel setup, allocations)
  } catch (err) {
    dispose();
    throw err;
  }
  return {
    backend: got, arch: net.config.arch, params: net.params.countLearnable(), batch, steps, dispose,
    async time() {
      await initBackend({ backend: got, quiet: true });
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await step();
      return Math.round(((batch * steps) / ((performance.now() - t0) / 1000)) * 100) / 100;
    },
  };
}

export async function benchBackend(backend: string, o: BenchOptions): Promise<BenchResult> {
  const p = await prepareBench(backend, o);
  try {
    const imgPerSec = await p.time();
    return { backend: p.backend, mode: o.mode, size: o.size, batch: p.batch, imgPerSec, arch: p.arch, params: p.params, steps: p.steps };
  } finally {
    p.dispose();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function torchAvailable(): Promise<boolean> {
  try {
    await run('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

export async function benchTorch(script: string, o: BenchOptions): Promise<PeerResult> {
  const batch = o.batch ?? (o.mode === 'train' ? 16 : 32);
  const steps = o.steps ?? (o.mode === 'train' ? 3 : 5);
  const { stdout } = await run('/usr/bin/python3', [script, String(o.size), String(batch), o.mode, String(steps), String(o.threads ?? 2)], { timeout: 600_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as PeerResult;
}

/** Backends to try by default: the selection order minus cpu (pure JS, ~200x slower than wasm). */
export function defaultBenchBackends(): string[] {
  return BACKEND_ORDER.filter((b) => b !== 'cpu');
}

/** The backends of `candidates` that start here, and why each of the others did not. */
export async function startBackends(candidates: string[]): Promise<{ started: string[]; failed: { backend: string; reason: string }[] }> {
  const started: string[] = [];
  const failed: { backend: string; reason: string }[] = [];
  for (const b of candidates) {
    try {
      const got = await initBackend({ backend: b, quiet: true });
      if (!started.includes(got)) started.push(got);
    } catch (e) {
      failed.push({ backend: b, reason: e instanceof BackendUnavailableError ? 'not available here (not installed, or it did not start)' : (e as Error).message });
    }
  }
  return { started, failed };
}

/** The backends of `candidates` that start here (those not installed are left out). */
export async function availableBackends(candidates: string[]): Promise<string[]> {
  return (await startBackends(candidates)).started;
}
