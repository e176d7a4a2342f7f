import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { describeNative, expectParity, randomTensor } from '../testing/parity.js';
import { reductionBlock } from './reduce.js';

it('reductionBlock collapses contiguous reduced axes and rejects split ones', () => {
  expect(reductionBlock([16, 8, 8, 64], [0, 1, 2])).toEqual([1, 1024, 64]);
  expect(reductionBlock([16, 8, 8, 64], [1, 2])).toEqual([16, 64, 64]);
  expect(reductionBlock([16, 8, 8, 64], [3])).toEqual([1024, 64, 1]);
  expect(reductionBlock([16, 1, 8, 64], [0, 2])).toEqual([1, 128, 64]); // size-1 axis between is ignored
  expect(reductionBlock([16, 8, 8, 64], [0, 3])).toBeNull();
});

describeNative('native reductions match the cpu backend', () => {
  const shape = [3, 5, 4, 6];
  const axesCases: (number | number[])[] = [[0, 1, 2], [1, 2], 3, -1, [0], [0, 3], [0, 1, 2, 3], []];
  for (const axis of axesCases) {
    for (const keepDims of [false, true]) {
      it(`sum/mean/max/min over ${JSON.stringify(axis)} keepDims=${keepDims}`, async () => {
        await expectParity(() => {
          const x = randomTensor(shape, 1);
          return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.max(x, axis, keepDims), tf.min(x, axis, keepDims)];
        });
      });
    }
  }
  it('when OpenMP starts fewer threads than asked (OMP_THREAD_LIMIT), every slice is still summed', () => {
    const script = fileURLToPath(new URL('../testing/reduceUnderThreadLimit.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, OMP_NUM_THREADS: '2', OMP_THREAD_LIMIT: '1' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(run.stderr + run.stdout).toMatch(/parity/);
    expect(run.status).toBe(0);
  }, 70_000);
  it('a full reduction of a large tensor (accumulates in double)', async () => {
    await expectParity(() => [tf.sum(randomTensor([200_001], 4)), tf.mean(tf.add(randomTensor([64, 64, 64], 5), 3))]);
  });
  it('gradients of sum, mean (native fast path) and max', async () => {
    await expectParity(() => {
      const x = randomTensor(shape, 1);
      return [
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.sum(a, [0, 1, 2]))))(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.mean(a, [1, 2], true))))(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.mean(a, -1))))(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.max(a, [1, 2])))(x),
      ];
    });
  });
  it('int32 sums fall back to the cpu kernel', async () => {
    await expectParity(() => tf.cast(tf.sum(tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), 0), 'float32'));
  });
});
