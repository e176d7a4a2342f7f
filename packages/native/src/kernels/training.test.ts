import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, adamUpdate, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormTraining, Optimizer } from '@rcmnet/model';
import { expect, it } from 'vitest';
import { describeNative, expectParity, nativeBackend, randomTensor } from '../testing/parity.js';
import { loadAddon } from '../addon.js';
import { RELU_GRAD } from '../gradients.js';
import { defaultParallelMin } from '../registerNativeBackend.js';
import { trainingKernels } from './training.js';

// On the cpu backend these ops run as plain tfjs ops (the model's fallback); on the
// native backend as one fused kernel each. Parity shows the kernels implement the
// same maths, gradients included.
describeNative('fused training kernels match the tfjs-op fallback', () => {
  it('are registered under the op names @rcmnet/model calls', () => {
    expect(Object.keys(trainingKernels).sort()).toEqual([ADAM_UPDATE, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, RELU_GRAD].sort());
    for (const name of Object.keys(trainingKernels)) {
      expect(tf.getKernel(name, nativeBackend!)).toBeDefined();
      expect(tf.getKernel(name, 'cpu')).toBeUndefined();
    }
  });

  for (const shape of [[4, 6, 5, 8], [1, 3, 3, 1], [2, 7, 9, 19]] as [number, number, number, number][]) {
    it(`batch norm with batch statistics, forward and gradients, ${shape.join('x')}`, async () => {
      const c = shape[3];
      await expectParity(() => {
        // An offset mean (3.0) checks the variance is computed from centred values.
        const x = tf.add(randomTensor(shape, 1, 2), 3) as tf.Tensor4D;
        const gamma = tf.add(randomTensor([c], 2, 0.5), 1) as tf.Tensor1D;
        const beta = randomTensor([c], 3) as tf.Tensor1D;
        const target = randomTensor(shape, 4);
        const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5);
        const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y, target));
        return [y, mean, variance, ...tf.grads(loss)([x, gamma, beta])];
      }, { rtol: 1e-4, atol: 1e-4 });
    });
  }

  it('batch norm gradient also flows through the returned statistics', async () => {
    await expectParity(() => {
      const x = randomTensor([3, 4, 4, 6], 5) as tf.Tensor4D;
      const gamma = tf.ones([6]) as tf.Tensor1D, beta = tf.zeros([6]) as tf.Tensor1D;
      const w = randomTensor([6], 6);
      return tf.grad((a: tf.Tensor) => {
        const { y, mean, variance } = batchNormTraining(a as tf.Tensor4D, gamma, beta, 1e-3);
        return tf.addN([tf.sum(tf.square(y)), tf.sum(tf.mul(mean, w)), tf.sum(tf.mul(variance, w))]);
      })(x);
    }, { rtol: 1e-4, atol: 1e-4 });
  });

  it('Relu gradient in one pass, zero at and below 0 as tfjs', async () => {
    await expectParity(() => {
      const x = tf.concat([randomTensor([50], 1), tf.tensor1d([0, -0, 1e-30, -1e-30])]);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), randomTensor([54], 2))))(x);
    }, { rtol: 0, atol: 0 });
  });

  for (const decay of [0, 0.05]) {
    it(`Adam update${decay ? ' with decoupled weight decay' : ''}`, async () => {
      await expectParity(() => {
        const [w, m, v, g] = [1, 2, 3, 4].map((s) => randomTensor([37, 5], s));
        return adamUpdate(w!, tf.mul(m!, 0.1), tf.abs(tf.mul(v!, 0.01)), g!, {
          lr: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection1: 1 - 0.9 ** 3, biasCorrection2: 1 - 0.999 ** 3, decay,
        });
      }, { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('the model Optimizer takes the same steps on both paths', async () => {
    await expectParity(() => {
      const vars = new Map([['w', tf.variable(randomTensor([3, 3, 4, 8], 7))], ['b', tf.variable(randomTensor([8], 8))]]);
      const opt = new Optimizer({ kind: 'adam', weightDecay: 1e-2 });
      for (let step = 1; step <= 3; step++)
        opt.apply(new Map([...vars].map(([k, v]) => [k, tf.mul(randomTensor(v.shape, 10 + step), step)])), vars, 1e-2);
      const out = [...vars.values()].map((v) => v.clone());
      opt.dispose();
      for (const v of vars.values()) v.dispose();
      return out;
    }, { rtol: 1e-5, atol: 1e-6 });
  });

  it('give the same results when every memory-bound loop runs on all threads (the quiet-machine mode)', async () => {
    const { addon } = await loadAddon();
    addon!.setParallelMin(1);
    try {
      await expectParity(() => {
        const x = tf.add(randomTensor([4, 8, 8, 32], 11, 2), 1) as tf.Tensor4D;
        const gamma = tf.add(randomTensor([32], 12, 0.5), 1) as tf.Tensor1D, beta = randomTensor([32], 13) as tf.Tensor1D;
        const target = randomTensor([4, 8, 8, 32], 14);
        const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y, target));
        const [w, m, v, g] = [15, 16, 17, 18].map((seed) => randomTensor([300], seed));
        return [
          ...tf.grads(loss)([x, gamma, beta]), tf.softmax(x), tf.relu(x), tf.mul(x, gamma), tf.sum(x, [0, 1, 2]),
          tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'), 1.5)))(x),
          ...adamUpdate(w!, m!, tf.abs(v!), g!, { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection1: 0.1, biasCorrection2: 0.001, decay: 0.01 }),
        ];
      }, { rtol: 1e-4, atol: 1e-4 });
    } finally {
      addon!.setParallelMin(defaultParallelMin());
    }
  });
});
