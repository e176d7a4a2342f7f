// "Same model, every backend": an RCMNet trained on the native backend is saved
// with the model package's artifact code, then loaded and run on wasm and on
// the reference cpu backend; the predictions must agree within float32 tolerance.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, loadNetwork, readCard, train, writeSynthDataset } from '@rcmnet/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNative, randomValues } from './testing/parity.js';

let dir = '';
let modelDir = '';

describeNative('a model trained on the native backend', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rcmnet-native-'));
    const data = path.join(dir, 'data');
    await writeSynthDataset(data, { perClass: 8, size: 32, seed: 3 });
    await initBackend({ backend: 'native', quiet: true });
    const result = await train({ arch: 'rcmnet', size: 32, widthMultiplier: 0.25, batchSize: 16, seed: 1, data, out: path.join(dir, 'model'), epochs: 1 });
    modelDir = result.modelDir;
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function logitsOn(backend: string): Promise<Float32Array> {
    await initBackend({ backend, quiet: true });
    const { net } = await loadNetwork(modelDir);
    const x = tf.tensor4d(randomValues(6 * 32 * 32 * 3, 9), [6, 32, 32, 3]);
    const logits = tf.tidy(() => net.logits(x, { training: false }));
    const values = Float32Array.from(await logits.data());
    tf.dispose([x, logits]);
    net.dispose();
    return values;
  }

  it('records the native backend in its model card', async () => {
    expect((await readCard(modelDir)).backend).toBe('native');
  });

  it('loads on wasm and cpu and predicts the same logits and classes as on native', async () => {
    const native = await logitsOn('native');
    for (const other of ['wasm', 'cpu']) {
      const got = await logitsOn(other);
      const scale = Math.max(...native.map(Math.abs));
      const worst = Math.max(...native.map((v, i) => Math.abs(v - got[i]!)));
      expect(worst, `${other} vs native: max |diff| ${worst}, scale ${scale}`).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      const k = native.length / 6;
      for (let row = 0; row < 6; row++) {
        const argmax = (a: Float32Array) => { const r = Array.from(a.subarray(row * k, row * k + k)); return r.indexOf(Math.max(...r)); };
        expect(argmax(got)).toBe(argmax(native));
      }
    }
  });
});
