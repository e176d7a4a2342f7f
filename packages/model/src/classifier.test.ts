/**
 * CellClassifier.predict's abstention threshold: one that can never abstain (1/K or below) or
 * always would (over 1, NaN) is refused, as training refuses it. An untrained network is enough.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, archConfig } from './architecture.js';
import { saveModel, type ModelCard } from './artifact.js';
import { initBackend } from './backend.js';
import { loadModel, type CellClassifier } from './classifier.js';
import { OptionError } from './options.js';
import { synthCell } from './synth.js';
import { tempDir } from './testing.js';

const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
let dir: string;
let cleanup: () => Promise<void>;
let model: CellClassifier;
const cell = synthCell('monocyte', 32, 7);

/** Saves an untrained 8-class network with the given card threshold and loads it. */
async function savedModel(name: string, abstainThreshold: number): Promise<CellClassifier> {
  const net = new Network(archConfig('rcmnet', { inputSize: 32, numClasses: labels.length, widthMultiplier: 0.25 }));
  const card: Omit<ModelCard, 'weightsSha256' | 'format'> = {
    name, architecture: net.config.arch, config: net.config, labels, inputSize: 32,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, cropContext: null, backend: 'wasm',
    parameterCount: net.params.countLearnable(), data: { source: 'none', snapshotId: '0000000000000000', trainCount: 0, valCount: 0 },
    training: {}, metrics: null, calibration: { temperature: 1, fittedOn: 'none' }, abstainThreshold, createdAt: new Date(0).toISOString(),
  };
  await saveModel(path.join(dir, name), net, card);
  net.dispose();
  return loadModel(path.join(dir, name));
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await initBackend({ quiet: true });
  model = await savedModel('model', 0.5);
});
afterAll(async () => {
  model.dispose();
  await cleanup();
});

describe('CellClassifier.predict abstention threshold', () => {
  it('refuses 1/K or below (never abstains) and over 1 or NaN (always would); accepts just above 1/K and 1', async () => {
    for (const t of [1 / 8, 0.1, -1]) {
      await expect(model.predict([cell], { abstainThreshold: t }), String(t)).rejects.toThrow(/^abstainThreshold .* never abstains with 8 classes \(the top probability is at least 0\.125\)/);
    }
    for (const t of [1.01, 5, Number.NaN]) {
      await expect(model.predict([cell], { abstainThreshold: t }), String(t)).rejects.toThrow(/^abstainThreshold .* abstains on every cell/);
    }
    await expect(model.predict([cell], { abstainThreshold: 5 })).rejects.toBeInstanceOf(OptionError);
    const t = 1 / 8 + 1e-3;
    const [p] = await model.predict([cell], { abstainThreshold: t });
    expect(p!.abstained).toBe(p!.confidence < t);
    const [strict] = await model.predict([cell], { abstainThreshold: 1 });
    expect(strict!.abstained).toBe(strict!.confidence < 1);
  });

  it('takes 0 as "never abstain", and the card\'s own threshold as it is (a card from before thresholds were checked)', async () => {
    const [p] = await model.predict([cell], { abstainThreshold: 0 });
    expect(p!.abstained).toBe(false);
    // The API passes the card's threshold explicitly: an old model at 1/K must keep serving.
    const old = await savedModel('old-card', 1 / 8);
    try {
      const [q] = await old.predict([cell], { abstainThreshold: 1 / 8 });
      expect(q!.abstained).toBe(false);
      await expect(old.predict([cell], { abstainThreshold: 0.1 })).rejects.toThrow(/never abstains with 8 classes/);
    } finally {
      old.dispose();
    }
  });
});
