/**
 * An exponential moving average of a network's weights (Polyak averaging; timm's "model
 * EMA"). The average lives in a second Network of the same architecture, so it is
 * evaluated and saved with the ordinary code paths. BatchNorm running statistics are
 * averaged with the rest, as timm does: they belong to the weights they were collected for.
 *
 * Why: with one seed per run affordable (~1-2 h per 30 epochs here), an average of the
 * last few thousand steps is the cheapest way to get some of an ensemble's variance
 * reduction out of a single run (docs/results.md).
 */
import { Network } from './architecture.js';
import { tf } from './tf.js';

export class WeightAverage {
  readonly net: Network;

  /** `updates`: how many updates an average restored from a checkpoint had already taken. */
  constructor(
    source: Network,
    readonly decay: number,
    private updates = 0,
  ) {
    WeightAverage.checkDecay(decay);
    this.net = new Network({ ...source.config });
    this.copyFrom(source);
  }

  /** Throws a clear error for a decay outside (0, 1): 0 would copy the weights, 1 would freeze the average. */
  static checkDecay(decay: number): void {
    if (!(decay > 0 && decay < 1)) throw new Error(`EMA decay must be between 0 and 1 (exclusive), got ${decay}`);
  }

  get updateCount(): number {
    return this.updates;
  }

  /**
   * The decay for the next update, ramped up over the first steps (timm's warm-up,
   * (1 + n) / (10 + n)): with the full decay from step one the average would stay
   * anchored to the random initialisation for thousands of steps.
   */
  effectiveDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** average <- d * average + (1 - d) * weights, for every parameter and running statistic. */
  update(source: Network): void {
    const d = this.effectiveDecay();
    tf.tidy(() => {
      for (const e of source.params.all()) {
        const avg = this.net.params.get(e.key);
        avg.assign(tf.add(tf.mul(avg, d), tf.mul(e.variable, 1 - d)));
      }
    });
    this.updates++;
  }

  /** Overwrites the average with `source`'s weights (a checkpoint's average, on resume). */
  copyFrom(source: Network): void {
    for (const e of source.params.all()) tf.tidy(() => this.net.params.get(e.key).assign(e.variable));
  }

  dispose(): void {
    this.net.dispose();
  }
}
