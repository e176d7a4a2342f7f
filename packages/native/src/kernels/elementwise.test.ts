import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { describeNative, expectParity, randomTensor } from '../testing/parity.js';

// Shape pairs the model produces: same shape, per-channel vector, CBAM channel
// attention [N,1,1,C], spatial attention [N,H,W,1], scalar, and both-sided broadcast.
const shapePairs: [number[], number[]][] = [
  [[2, 5, 5, 6], [2, 5, 5, 6]],
  [[2, 5, 5, 6], [6]],
  [[2, 5, 5, 6], [2, 1, 1, 6]],
  [[2, 5, 5, 6], [2, 5, 5, 1]],
  [[2, 5, 5, 6], []],
  [[3, 1], [1, 4]],
  [[1, 7], [5, 1, 7]],
  [[4], [4]],
];

describeNative('native element-wise kernels match the cpu backend', () => {
  const binaries = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: tf.maximum, minimum: tf.minimum, squaredDifference: tf.squaredDifference };
  for (const [as, bs] of shapePairs) {
    it(`binary ops on ${JSON.stringify(as)} and ${JSON.stringify(bs)} (both orders)`, async () => {
      await expectParity(() => Object.values(binaries).flatMap((op) => {
        const a = randomTensor(as, 1), b = tf.add(randomTensor(bs, 2), 1.5); // b away from 0 for div
        return [op(a, b), op(b, a)];
      }));
    });
    it(`comparisons on ${JSON.stringify(as)} and ${JSON.stringify(bs)}`, async () => {
      await expectParity(() => {
        const a = tf.round(tf.mul(randomTensor(as, 1), 2)), b = tf.round(tf.mul(randomTensor(bs, 2), 2)); // ties happen
        return [tf.equal(a, b), tf.notEqual(a, b), tf.greater(a, b), tf.greaterEqual(a, b), tf.less(a, b), tf.lessEqual(a, b)]
          .map((t) => tf.cast(t, 'float32'));
      });
    });
  }
  it('comparison results are bool tensors', async () => {
    await expectParity(() => tf.equal(randomTensor([3, 4], 1), randomTensor([4], 2)));
  });
  it('unary ops', async () => {
    await expectParity(() => {
      const x = randomTensor([3, 7, 5], 1, 3), pos = tf.add(tf.abs(x), 0.1);
      return [tf.relu(x), tf.sigmoid(x), tf.step(x), tf.step(x, 0.3), tf.exp(x), tf.log(pos), tf.neg(x), tf.sqrt(pos), tf.rsqrt(pos),
        tf.square(x), tf.abs(x), tf.tanh(x), tf.relu6(tf.mul(x, 3)), tf.reciprocal(pos)];
    });
  });
  it('NaN propagates like the cpu backend', async () => {
    await expectParity(() => {
      const x = tf.tensor([NaN, 1, -1, 0]), y = tf.tensor([0, NaN, 2, -3]);
      return [tf.relu(x), tf.maximum(x, y), tf.minimum(x, y), tf.step(x), tf.sum(x)];
    });
  });
  it('gradients of relu, sigmoid, mul/div with broadcasting', async () => {
    await expectParity(() => {
      const x = randomTensor([2, 4, 4, 3], 1), c = tf.add(randomTensor([2, 1, 1, 3], 2), 2);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.div(tf.mul(tf.sigmoid(a), tf.relu(tf.sub(a, b))), b)))([x, c]);
    });
  });
  it('batch norm (inference form and training through tf.moments, with gradients)', async () => {
    await expectParity(() => {
      const x = randomTensor([2, 5, 5, 6], 1, 2), gamma = tf.add(randomTensor([6], 2), 1), beta = randomTensor([6], 3);
      const mean = randomTensor([6], 4), variance = tf.add(tf.abs(randomTensor([6], 5)), 0.5);
      const training = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const m = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.square(tf.batchNorm(a, m.mean, m.variance, b, g, 1e-3)));
      };
      return [
        tf.batchNorm(x, mean, variance, beta, gamma, 1e-3),
        tf.batchNorm(x, mean, variance), // no offset/scale
        tf.batchNorm(x, tf.reshape(mean, [1, 1, 1, 6]), tf.reshape(variance, [1, 1, 1, 6]), undefined, tf.fill([1, 1, 1, 6], 1.5), 1e-3),
        ...tf.grads(training)([x, gamma, beta]),
      ];
    });
  });
  it('addN, transpose, tile, non-contiguous slice, splitV, concat and casts', async () => {
    await expectParity(() => {
      const x = randomTensor([2, 3, 4, 5], 1);
      return [
        tf.addN([x, tf.mul(x, 2), randomTensor([2, 3, 4, 5], 3)]),
        tf.transpose(x, [0, 3, 1, 2]), tf.transpose(x, [3, 2, 1, 0]),
        tf.tile(randomTensor([1, 1, 1, 5], 2), [2, 3, 4, 1]), tf.tile(randomTensor([2, 3], 4), [3, 2]),
        tf.slice(x, [0, 1, 1, 2], [2, 2, 2, 3]), tf.slice(x, [1, 0, 0, 0], [1, 3, 4, 5]),
        ...tf.split(x, [2, 3], 3), ...tf.split(x, 2, 0),
        tf.concat([x, x], 3), tf.concat([x, tf.slice(x, [0, 0, 0, 0], [2, 3, 4, 1]), x], 3), tf.concat([x, x], 1),
        tf.concat([randomTensor([6, 40], 5), randomTensor([6, 17], 6), randomTensor([6, 3], 7)], 1), tf.concat([x, x], 0),
        tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.tensor([1, -2, 3], [3], 'int32'), 'float32'),
      ];
    });
  });
  it('gradients through concat/split (the CBAM spatial-attention path)', async () => {
    await expectParity(() => {
      const x = randomTensor([2, 4, 4, 6], 1), w = randomTensor([7, 7, 2, 1], 2);
      return tf.grad((a: tf.Tensor) => {
        const pooled = tf.concat([tf.mean(a, 3, true), tf.max(a, 3, true)], 3);
        return tf.sum(tf.mul(a, tf.sigmoid(tf.conv2d(pooled as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'))));
      })(x);
    });
  });
  it('softmax over the last axis, with large logits and its gradient (the MHSA attention)', async () => {
    await expectParity(() => {
      const att = randomTensor([2, 4, 16, 16], 1, 5);
      const big = tf.mul(randomTensor([3, 7], 2), 80); // exp overflows without the max shift
      const target = randomTensor([2, 4, 16, 16], 3);
      return [tf.softmax(att), tf.softmax(big), tf.softmax(randomTensor([5], 4)), tf.softmax(randomTensor([4, 1], 5)),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.softmax(a), target)))(att)];
    });
  });
});
