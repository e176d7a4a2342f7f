/**
 * Adam(W) and SGD with momentum, written on tfjs ops with state keyed by parameter key.
 * tfjs's built-in optimizers index their slots by position in the gradient list, so
 * freezing/unfreezing parameters or resuming a run would silently pair moments with the
 * wrong weights; keyed state also serialises directly into checkpoints.
 */
import { adamUpdate } from './fusedOps.js';
import { tf } from './tf.js';

export type OptimizerKind = 'adam' | 'sgd';

export interface OptimizerOptions {
  kind: OptimizerKind;
  weightDecay?: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface OptimizerState {
  kind: OptimizerKind;
  step: number;
  slots: { key: string; shape: number[]; count: number }[];
}

export class Optimizer {
  private step = 0;
  private readonly slots = new Map<string, tf.Variable[]>();

  constructor(readonly options: OptimizerOptions) {}

  private slot(key: string, v: tf.Variable, count: number): tf.Variable[] {
    let s = this.slots.get(key);
    if (!s) {
      s = Array.from({ length: count }, () => tf.variable(tf.zerosLike(v), false));
      this.slots.set(key, s);
    }
    return s;
  }

  apply(grads: Map<string, tf.Tensor>, vars: Map<string, tf.Variable>, lr: number): void {
    this.step++;
    const wd = this.options.weightDecay ?? 0;
    tf.tidy(() => {
      for (const [key, g] of grads) {
        const v = vars.get(key);
        if (!v) continue;
        // No decay on BN affine parameters and biases (standard practice; decaying a
        // 1-D scale pulls it towards zero and hurts BN networks).
        const decay = v.rank > 1 ? wd : 0;
        if (this.options.kind === 'adam') {
          const beta1 = this.options.beta1 ?? 0.9;
          const beta2 = this.options.beta2 ?? 0.999;
          const [m, s] = this.slot(key, v, 2) as [tf.Variable, tf.Variable];
          const [v2, m2, s2] = adamUpdate(v, m, s, g, {
            lr, beta1, beta2, epsilon: this.options.epsilon ?? 1e-8,
            biasCorrection1: 1 - beta1 ** this.step, biasCorrection2: 1 - beta2 ** this.step, decay,
          });
          m.assign(m2);
          s.assign(s2);
          v.assign(v2);
        } else {
          const mu = this.options.momentum ?? 0.9;
          const [buf] = this.slot(key, v, 1) as [tf.Variable];
          const gd = decay ? tf.add(g, tf.mul(v, decay)) : g;
          buf.assign(tf.add(tf.mul(buf, mu), gd));
          v.assign(tf.sub(v, tf.mul(buf, lr)));
        }
      }
    });
  }

  /** Serialises the slots as float32 (a JSON array of 24M numbers would not do). */
  async state(): Promise<{ meta: OptimizerState; bin: Buffer }> {
    const slots: OptimizerState['slots'] = [];
    const parts: Buffer[] = [];
    for (const [key, vs] of this.slots) {
      slots.push({ key, shape: vs[0]!.shape, count: vs.length });
      for (const v of vs) {
        const d = (await v.data()) as Float32Array;
        parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      }
    }
    return { meta: { kind: this.options.kind, step: this.step, slots }, bin: Buffer.concat(parts) };
  }

  load(meta: OptimizerState, bin: Buffer): void {
    if (meta.kind !== this.options.kind) throw new Error(`Checkpoint optimizer is ${meta.kind}, this run uses ${this.options.kind}`);
    this.disposeSlots();
    this.step = meta.step;
    let offset = 0;
    for (const s of meta.slots) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const vs: tf.Variable[] = [];
      for (let i = 0; i < s.count; i++) {
        const vals = new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + n * 4));
        offset += n * 4;
        vs.push(tf.tidy(() => tf.variable(tf.tensor(vals, s.shape), false)));
      }
      this.slots.set(s.key, vs);
    }
  }

  private disposeSlots(): void {
    for (const vs of this.slots.values()) for (const v of vs) v.dispose();
    this.slots.clear();
  }

  dispose(): void {
    this.disposeSlots();
  }
}
