import { beforeAll, describe, expect, it } from 'vitest';
import { Network, archConfig } from './architecture.js';
import { initBackend } from './backend.js';
import { tf } from './tf.js';
import { WeightAverage } from './weightAverage.js';

const config = () => archConfig('rcmnet', { inputSize: 32, numClasses: 3, widthMultiplier: 0.125, seed: 4 });

async function values(net: Network, key: string): Promise<Float32Array> {
  return (await net.params.get(key).data()) as Float32Array;
}

beforeAll(async () => {
  await initBackend({ quiet: true });
});

describe('WeightAverage', () => {
  it('starts as a copy and moves by (1 - d) towards the weights, BatchNorm statistics included', async () => {
    const net = new Network(config());
    const avg = new WeightAverage(net, 0.5);
    for (const key of ['stem/conv/w', 'head/fc/b', 'stem/bn/mean']) expect(await values(avg.net, key)).toEqual(await values(net, key));

    const before = await values(net, 'head/fc/b');
    const mean0 = await values(net, 'stem/bn/mean');
    tf.tidy(() => {
      net.params.get('head/fc/b').assign(tf.add(net.params.get('head/fc/b'), 1));
      net.params.get('stem/bn/mean').assign(tf.add(net.params.get('stem/bn/mean'), 2));
    });
    // Warm-up: the first update uses min(0.5, 1/10) = 0.1, so the average takes 90% of the step.
    expect(avg.effectiveDecay()).toBeCloseTo(0.1, 12);
    avg.update(net);
    const moved = await values(avg.net, 'head/fc/b');
    moved.forEach((v, i) => expect(v).toBeCloseTo(before[i]! + 0.9, 5));
    (await values(avg.net, 'stem/bn/mean')).forEach((v, i) => expect(v).toBeCloseTo(mean0[i]! + 1.8, 5));
    expect(avg.updateCount).toBe(1);
    // After the ramp the configured decay holds: (1 + n) / (10 + n) >= 0.5 from n = 8 on.
    const late = new WeightAverage(net, 0.5, 100);
    expect(late.effectiveDecay()).toBe(0.5);
    late.dispose();
    avg.dispose();
    net.dispose();
  });

  it('leaks no tensors per update and frees everything on dispose', () => {
    const net = new Network(config());
    const before = tf.memory().numTensors;
    const avg = new WeightAverage(net, 0.999);
    const withAverage = tf.memory().numTensors;
    avg.update(net);
    avg.update(net);
    expect(tf.memory().numTensors).toBe(withAverage);
    avg.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('refuses a decay outside (0, 1) with a clear error', () => {
    const net = new Network(config());
    for (const d of [0, 1, -0.5, 1.5, Number.NaN]) expect(() => new WeightAverage(net, d)).toThrow(/between 0 and 1/);
    net.dispose();
  });
});
