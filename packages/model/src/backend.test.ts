import { describe, expect, it } from 'vitest';
import { BACKEND_ORDER, currentBackend, initBackend } from './backend.js';
import { tf } from './tf.js';

describe('backend selection', () => {
  it('prefers tfjs-node(-gpu), then native, then wasm, then cpu', () => {
    expect([...BACKEND_ORDER]).toEqual(['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu']);
  });

  it('activates a forced backend and reports it', async () => {
    expect(await initBackend({ backend: 'cpu', quiet: true })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()).toBe('cpu');
    expect(await initBackend({ backend: 'wasm', quiet: true })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('names the source of a forced backend that is unavailable', async () => {
    // tfjs-node cannot install on these machines (its install downloads libtensorflow).
    const forced = initBackend({ backend: 'no-such-backend', quiet: true });
    await expect(forced).rejects.toThrow(/Backend "no-such-backend" \(from the backend option\) is not available/);
  });

  it('registers gradient functions (tfjs-core alone has none in Node)', () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));
    expect(Array.from(g.dataSync())).toEqual([2, 4]);
  });
});
