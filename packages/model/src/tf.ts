/**
 * The one place that loads TensorFlow.js.
 *
 * `@tensorflow/tfjs-core`'s Node bundle registers no gradient functions (they live in
 * `dist/register_all_gradients`, an extensionless ESM tree Node cannot import). The
 * union package `@tensorflow/tfjs` registers them into the global registry shared with
 * tfjs-core, so it is imported here for that side effect; every module imports `tf`
 * from this file so the registration always happens first.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor4D = tf.Tensor4D;
export type Variable = tf.Variable;
