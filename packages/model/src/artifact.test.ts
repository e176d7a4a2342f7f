/** The model folder on disk: saving where the file system is awkward, loading what is damaged. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Network, archConfig } from './architecture.js';
import { loadNetwork, saveModel, type ModelCard } from './artifact.js';
import { initBackend } from './backend.js';
import { tempDir } from './testing.js';
import { faults } from './testingFs.js';

vi.mock('node:fs/promises', async (original) => (await import('./testingFs.js')).withFaults(await original()));

let dir: string;
let cleanup: () => Promise<void>;
let net: Network;

/** An untrained two-class network and a card for it: what is tested here is the folder, not the weights. */
function cardFor(n: Network): Omit<ModelCard, 'weightsSha256' | 'format'> {
  return {
    name: 'tiny',
    architecture: n.config.arch,
    config: n.config,
    labels: ['a', 'b'],
    inputSize: n.config.inputSize,
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    cropContext: null,
    backend: 'wasm',
    parameterCount: n.params.countLearnable(),
    data: { source: 'none', snapshotId: '0000000000000000', trainCount: 0, valCount: 0 },
    training: {},
    metrics: null,
    calibration: { temperature: 1, fittedOn: 'none' },
    abstainThreshold: 0.5,
    createdAt: new Date(0).toISOString(),
  };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await initBackend({ quiet: true });
  net = new Network(archConfig('rcmnet', { inputSize: 32, numClasses: 2, widthMultiplier: 0.25 }));
});
afterEach(() => {
  faults.readOnly = '';
  faults.mountPoint = '';
});
afterAll(async () => {
  net.dispose();
  await cleanup();
});

describe('saveModel', () => {
  it('saves into a mount point whose parent folder is read-only, and leaves no temp folder', async () => {
    const volume = path.join(dir, 'parent', 'volume');
    await saveModel(volume, net, cardFor(net)); // created while nothing is simulated
    faults.mountPoint = volume;
    const card = await saveModel(volume, net, { ...cardFor(net), name: 'again' });
    expect(card.name).toBe('again');
    expect((await readdir(volume)).sort()).toEqual(['model-card.json', 'topology.json', 'weights.bin']);
    expect(await readdir(path.dirname(volume))).toEqual(['volume']);
    const loaded = await loadNetwork(volume);
    expect(loaded.card.name).toBe('again');
    loaded.net.dispose();
  });
});
