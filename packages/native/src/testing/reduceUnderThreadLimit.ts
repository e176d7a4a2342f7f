// Run by reduce.test.ts in a child process, under OMP_THREAD_LIMIT=1 with OMP_NUM_THREADS=2:
// OpenMP then starts fewer threads than the reduction asks for. Prints the largest difference
// between the native and cpu backends' sums over the batch-norm axes.
import * as tf from '@tensorflow/tfjs';
import { expectParity, randomTensor } from './parity.js';
import { loadAddon } from '../addon.js';

(await loadAddon(() => {})).addon!.setParallelMin(1);
await expectParity(() => [tf.sum(randomTensor([8, 16, 16, 32], 1), [0, 1, 2]), tf.max(randomTensor([8, 16, 16, 32], 2), [0, 1, 2])]);
console.log('parity');
