/**
 * Named parameter storage for the hand-written layer system.
 *
 * tfjs variable names are global to the engine, so each store prefixes its variables with
 * a unique instance id (two loaded models never collide); everything outside this file,
 * including the saved artifact and optimizer state, uses the un-prefixed key.
 */
import { tf } from './tf.js';
import { Rng } from './rng.js';

let nextStoreId = 0;

export interface ParamEntry {
  key: string;
  variable: tf.Variable;
  /** False for BatchNorm running statistics: saved, never optimised. */
  learnable: boolean;
}

export class ParamStore {
  private readonly prefix = `rcmnet${nextStoreId++}`;
  private readonly entries = new Map<string, ParamEntry>();
  private frozenPrefixes: string[] = [];

  add(key: string, shape: number[], values: Float32Array, learnable = true): tf.Variable {
    if (this.entries.has(key)) throw new Error(`Parameter ${key} defined twice`);
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), learnable, `${this.prefix}/${key}`));
    this.entries.set(key, { key, variable, learnable });
    return variable;
  }

  get(key: string): tf.Variable {
    const e = this.entries.get(key);
    if (!e) throw new Error(`Unknown parameter ${key}`);
    return e.variable;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.variable.dispose();
    this.entries.delete(key);
  }

  /** Keys in definition order (stable: it is also the artifact's weight order). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  all(): ParamEntry[] {
    return [...this.entries.values()];
  }

  /** Learnable variables not under a frozen prefix, keyed by param key. */
  trainable(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const e of this.entries.values()) {
      if (e.learnable && !this.frozenPrefixes.some((p) => e.key.startsWith(p))) out.set(e.key, e.variable);
    }
    return out;
  }

  /** Freezes every learnable parameter whose key does not start with one of `keep`. */
  freezeAllBut(keep: string[]): void {
    const frozen = new Set<string>();
    for (const e of this.entries.values()) {
      if (!keep.some((k) => e.key.startsWith(k))) frozen.add(e.key);
    }
    this.frozenPrefixes = [...frozen];
  }

  unfreeze(): void {
    this.frozenPrefixes = [];
  }

  /** Number of learnable scalars (what PyTorch's `parameters()` counts). */
  countLearnable(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.learnable) n += e.variable.size;
    return n;
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}

export function heNormal(rng: Rng, size: number, fan: number): Float32Array {
  const std = Math.sqrt(2 / fan);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

export function uniformInit(rng: Rng, size: number, limit: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

export function filled(size: number, value: number): Float32Array {
  return new Float32Array(size).fill(value);
}
