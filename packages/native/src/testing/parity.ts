// Test helpers: run the same tfjs code on the reference 'cpu' backend and on
// the native backend, and compare every output element.
import * as tf from '@tensorflow/tfjs';
import { describe, expect } from 'vitest';
import { loadAddon } from '../addon.js';
import { registerNativeBackend } from '../registerNativeBackend.js';

const loaded = await loadAddon(() => {});
export const nativeBackend = loaded.addon ? await registerNativeBackend({ log: () => {} }) : null;
const skipReason = loaded.addon ? '' : loaded.reason;
// The reference cpu backend prints an "install tfjs-node" banner on first use; silence it in tests.
await tf.ready();
const cpu = tf.findBackend('cpu') ?? (tf.setBackend('cpu'), tf.findBackend('cpu'));
if (cpu) (cpu as unknown as { firstUse: boolean }).firstUse = false;

/** `describe` that skips, naming the reason, where the addon cannot be built on this machine. */
export function describeNative(name: string, body: () => void): void {
  if (nativeBackend) describe(name, body);
  else describe.skip(`${name} (skipped: native addon unavailable: ${skipReason})`, body);
}

/** Deterministic pseudo-random values (mulberry32), so both backends see identical inputs. */
export function randomValues(n: number, seed = 1, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function randomTensor(shape: number[], seed = 1, scale = 1): tf.Tensor {
  return tf.tensor(randomValues(tf.util.sizeFromShape(shape), seed, scale), shape);
}

/** Runs `fn` on `backend` and returns copies of its outputs with their shapes and dtypes. */
export async function runOn(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; dtype: string; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const result = outs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Float32Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  return result;
}

/**
 * Asserts that `fn` gives the same shapes, dtypes and values (within float32
 * tolerance: |native - cpu| <= atol + rtol * max|cpu|) on cpu and native.
 */
export async function expectParity(fn: () => tf.Tensor | tf.Tensor[], { rtol = 1e-4, atol = 1e-5 } = {}): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn(nativeBackend!, fn);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    const g = got[i]!;
    expect(g.shape).toEqual(r.shape);
    expect(g.dtype).toBe(r.dtype);
    let scale = 0, worst = 0;
    for (const v of r.values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < r.values.length; j++) {
      const a = r.values[j]!, b = g.values[j]!;
      if (Number.isNaN(a) || Number.isNaN(b)) expect(Number.isNaN(b)).toBe(Number.isNaN(a));
      else if (a !== b) worst = Math.max(worst, Math.abs(a - b)); // equal infinities differ by NaN, not 0
    }
    expect(worst, `output ${i}: max |diff| ${worst} vs scale ${scale}`).toBeLessThanOrEqual(atol + rtol * scale);
  });
}
