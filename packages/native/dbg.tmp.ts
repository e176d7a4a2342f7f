import * as tf from '@tensorflow/tfjs';
import { registerNativeBackend } from './src/index.js';
await registerNativeBackend(); await tf.setBackend('native');
const a = tf.randomNormal([16, 1, 1, 64]), b = tf.randomNormal([16, 32, 32, 64]), c = tf.randomNormal([16,32,32,1]);
for (const [n, f] of [['mul c', () => tf.mul(a, b)], ['mul s', () => tf.mul(c, b)], ['mul same', () => tf.mul(b, b)], ['eq', () => tf.equal(b, a)], ['cast', () => tf.cast(tf.equal(b,a), 'float32')]] as const) {
  f().dispose(); const t = performance.now(); for (let i = 0; i < 10; i++) f().dispose(); console.log(n, ((performance.now() - t) / 10).toFixed(2));
}
