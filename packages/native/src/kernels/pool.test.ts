import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { describeNative, expectParity, randomTensor } from '../testing/parity.js';

type Case = { x: [number, number, number, number]; k: number; s: number; pad: 'same' | 'valid' };
const cases: Case[] = [
  { x: [2, 16, 16, 8], k: 3, s: 2, pad: 'same' }, // the stem's max-pool
  { x: [1, 9, 7, 3], k: 3, s: 2, pad: 'same' },
  { x: [2, 8, 8, 4], k: 2, s: 2, pad: 'valid' },
  { x: [1, 5, 5, 2], k: 3, s: 1, pad: 'same' },
  { x: [3, 7, 9, 5], k: 3, s: 2, pad: 'valid' },
];

describeNative('native pooling matches the cpu backend', () => {
  for (const c of cases) {
    const label = `${c.x.join('x')} k${c.k} s${c.s} ${c.pad}`;
    it(`maxPool and its gradient ${label}`, async () => {
      await expectParity(() => {
        const x = randomTensor(c.x, 1);
        const y = tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad);
        const target = randomTensor(y.shape, 2);
        return [y, tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.pad), target)))(x)];
      });
    });
    it(`avgPool and its gradient ${label}`, async () => {
      await expectParity(() => {
        const x = randomTensor(c.x, 1);
        const y = tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad);
        const target = randomTensor(y.shape, 2);
        return [y, tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, c.k, c.s, c.pad), target)))(x)];
      });
    });
  }
  it('maxPool skips NaN as cpu does: forward and gradient, an all-NaN window included', async () => {
    await expectParity(() => {
      // Windows (2x2, stride 2): [NaN, 1, 2, 3] -> 3; [4, NaN, NaN, 0] -> 4; all NaN -> -inf, no gradient.
      const x = tf.tensor4d([NaN, 1, 4, NaN, 2, 3, NaN, 0, NaN, NaN, 5, 6, NaN, NaN, 7, 8], [1, 4, 4, 1]);
      const target = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
      return [tf.maxPool(x, 2, 2, 'valid'), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), target)))(x)];
    });
  });
  it('maxPool gradient with tied maxima routes to the first, as cpu does', async () => {
    await expectParity(() => {
      const x = tf.tensor4d([1, 1, 1, 1, 2, 2, 0, 2, 2], [1, 3, 3, 1]);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 1, 'valid')))(x);
    });
  });
});
