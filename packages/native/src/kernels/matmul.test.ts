import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { describeNative, expectParity, randomTensor } from '../testing/parity.js';

describeNative('native BatchMatMul and _FusedMatMul match the cpu backend', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[4, 16, 32], [4, 32, 16], false, false], // attention-shaped
    [[2, 3, 6, 5], [2, 3, 6, 5], false, true],
    [[4, 6, 5], [5, 3], false, false], // b broadcast over the batch
    [[1, 6, 5], [3, 5, 2], false, false], // a broadcast over the batch
  ];
  for (const [as, bs, ta, tb] of cases) {
    // tfjs 4.22's BatchMatMul gradient itself fails for broadcast batches (on every backend), so those test forward only.
    const broadcast = as.length !== bs.length || as[0] !== bs[0];
    it(`${as.join('x')} @ ${bs.join('x')} transposeA=${ta} transposeB=${tb}${broadcast ? '' : ', with gradients'}`, async () => {
      await expectParity(() => {
        const a = randomTensor(as, 1), b = randomTensor(bs, 2);
        const y = tf.matMul(a, b, ta, tb);
        if (broadcast) return y;
        const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, ta, tb))))([a, b]);
        return [y, ...g];
      });
    });
  }
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu'] as const) {
    it(`fused matmul + bias + ${activation}`, async () => {
      await expectParity(() => tf.fused.matMul({ a: randomTensor([6, 9], 1) as tf.Tensor2D, b: randomTensor([9, 4], 2) as tf.Tensor2D,
        bias: randomTensor([4], 3), activation }));
    });
  }
  it('fused matmul gradients (dense layer with relu)', async () => {
    await expectParity(() => tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' })))(
      [randomTensor([6, 9], 1), randomTensor([9, 4], 2), randomTensor([4], 3)]));
  });
  it('empty inner dimension gives zeros, not stale pooled memory', async () => {
    await expectParity(() => tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])));
  });
});
