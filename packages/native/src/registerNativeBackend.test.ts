import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { fusedKernels, registerWithAddon } from './registerNativeBackend.js';
import { describeNative, nativeBackend, randomTensor } from './testing/parity.js';

it('without the addon: logs exactly one line naming the reason and the fallback, returns null', () => {
  const lines: string[] = [];
  const name = registerWithAddon({ addon: null, reason: 'oneDNN headers not found: install libdnnl-dev' }, { name: 'native-missing', log: (l) => lines.push(l) });
  expect(name).toBeNull();
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/libdnnl-dev/);
  expect(lines[0]).toMatch(/wasm/);
  expect(tf.findBackendFactory('native-missing')).toBeNull();
});

describeNative('the native backend', () => {
  it('is registered under its name with every cpu kernel available, plus the fused ops', () => {
    expect(nativeBackend).toBe('native');
    const cpuKernels = tf.getKernelsForBackend('cpu').map((k) => k.kernelName);
    const nativeKernels = tf.getKernelsForBackend('native').map((k) => k.kernelName).sort();
    expect(nativeKernels).toEqual([...cpuKernels, ...Object.keys(fusedKernels)].sort());
  });

  it('hands out copies: an array read by dataSync() stays intact after the tensor is disposed and its buffer reused', async () => {
    await tf.setBackend('native');
    const a = tf.relu(tf.fill([1000], 2));
    const seen = a.dataSync();
    a.dispose();
    const b = tf.relu(tf.fill([1000], 7)); // same size: takes the recycled buffer
    expect(seen[0]).toBe(2);
    expect(b.dataSync()[0]).toBe(7);
    b.dispose();
  });

  it('keeps zero-copy slice views valid after their parent is disposed', async () => {
    await tf.setBackend('native');
    const parent = tf.relu(tf.tensor2d([[1, 2], [3, 4]]));
    const [top, bottom] = tf.split(parent, 2, 0); // contiguous: views on the parent's buffer
    parent.dispose();
    const churn = tf.relu(tf.tensor2d([[9, 9], [9, 9]])); // would take the buffer if it were wrongly freed
    expect(Array.from(top!.dataSync())).toEqual([1, 2]);
    expect(Array.from(bottom!.dataSync())).toEqual([3, 4]);
    tf.dispose([top!, bottom!, churn]);
  });

  it('leaks no tensors across a training step (conv, batch norm, pooling, dense, Adam)', async () => {
    await tf.setBackend('native');
    const w = tf.variable(randomTensor([3, 3, 3, 8], 1, 0.3));
    const gamma = tf.variable(tf.ones([8])), beta = tf.variable(tf.zeros([8]));
    const dense = tf.variable(randomTensor([8, 4], 2, 0.3));
    const x = randomTensor([2, 8, 8, 3], 3), labels = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4);
    const optimizer = tf.train.adam(1e-2);
    const loss = () => {
      const h = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      const m = tf.moments(h, [0, 1, 2]);
      const y = tf.maxPool(tf.relu(tf.batchNorm(h, m.mean, m.variance, beta, gamma, 1e-3)) as tf.Tensor4D, 3, 2, 'same');
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.mean(y, [1, 2]) as tf.Tensor2D, dense)) as tf.Scalar;
    };
    optimizer.minimize(loss); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    const first = optimizer.minimize(loss, true)!;
    const firstLoss = first.dataSync()[0]!;
    first.dispose();
    for (let i = 0; i < 20; i++) optimizer.minimize(loss);
    const last = optimizer.minimize(loss, true)!;
    expect(last.dataSync()[0]).toBeLessThan(firstLoss); // it actually learns
    last.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, gamma, beta, dense, x, labels]);
    optimizer.dispose();
  });
});
