/** The model folder on disk: saving where the file system is awkward, loading what is damaged. */
import { cp, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Network, archConfig } from './architecture.js';
import { loadNetwork, ModelIntegrityError, runState, saveModel, unfinishedWarning, type ModelCard } from './artifact.js';
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

  it("removes what a save killed part way (under another process id) left behind, once it is stale", async () => {
    const out = path.join(dir, 'killed');
    await saveModel(out, net, cardFor(net));
    await mkdir(path.join(out, '.saving-99999'));
    await writeFile(path.join(out, '.saving-99999', 'weights.bin'), 'half');
    // Left untouched for a few minutes: a resumed run's next save, minutes after the kill, clears it.
    const minutesAgo = new Date(Date.now() - 3 * 60_000);
    await utimes(path.join(out, '.saving-99999'), minutesAgo, minutesAgo);
    await saveModel(out, net, cardFor(net));
    expect((await readdir(out)).sort()).toEqual(['model-card.json', 'topology.json', 'weights.bin']);
  });

  it("leaves another process's save under way alone (a worker on another machine sharing the volume)", async () => {
    const out = path.join(dir, 'shared');
    await saveModel(out, net, cardFor(net));
    await mkdir(path.join(out, '.saving-1-0a0b0c0d'));
    await writeFile(path.join(out, '.saving-1-0a0b0c0d', 'weights.bin'), 'being written');
    await saveModel(out, net, cardFor(net));
    expect((await readdir(out)).sort()).toEqual(['.saving-1-0a0b0c0d', 'model-card.json', 'topology.json', 'weights.bin']);
    expect(await readFile(path.join(out, '.saving-1-0a0b0c0d', 'weights.bin'), 'utf8')).toBe('being written');
  });

  it('removes its own staging folder when a save fails', async () => {
    const out = path.join(dir, 'failing');
    await saveModel(out, net, cardFor(net));
    faults.readOnly = path.join(out, 'weights.bin'); // the rename into place fails
    await expect(saveModel(out, net, cardFor(net))).rejects.toThrow(/EROFS/);
    faults.readOnly = '';
    expect((await readdir(out)).sort()).toEqual(['model-card.json', 'topology.json', 'weights.bin']);
  });
});

describe('loading a model folder', () => {
  let saved: string;
  let card: Record<string, unknown>;
  beforeAll(async () => {
    saved = path.join(dir, 'saved');
    await saveModel(saved, net, cardFor(net));
    card = JSON.parse(await readFile(path.join(saved, 'model-card.json'), 'utf8')) as Record<string, unknown>;
  });

  /** A copy of the saved model with `edit` applied to it. */
  async function damaged(name: string, edit: (copy: string) => Promise<void>): Promise<string> {
    const copy = path.join(dir, name);
    await cp(saved, copy, { recursive: true });
    await edit(copy);
    return copy;
  }
  const withCard = (name: string, changes: Record<string, unknown>) =>
    damaged(name, (copy) => writeFile(path.join(copy, 'model-card.json'), JSON.stringify({ ...card, ...changes })));

  it('refuses a card whose calibration, normalisation or abstain threshold would give nonsense, naming the field', async () => {
    for (const [name, changes, message] of [
      ['no-calibration', { calibration: undefined }, /model-card\.json: missing or invalid calibration\.temperature \(a number > 0\)$/],
      ['zero-temperature', { calibration: { temperature: 0, fittedOn: 'val' } }, /calibration\.temperature/],
      ['text-temperature', { calibration: { temperature: '1', fittedOn: 'val' } }, /calibration\.temperature/],
      ['zero-std', { normalization: { mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2] } }, /missing or invalid normalization \(mean and std: 3 numbers each, std > 0\)$/],
      ['two-means', { normalization: { mean: [0.5, 0.5], std: [0.2, 0.2, 0.2] } }, /normalization/],
      ['nan-mean', { normalization: { mean: [0.5, null, 0.5], std: [0.2, 0.2, 0.2] } }, /normalization/],
      ['threshold-over-1', { abstainThreshold: 1.5 }, /missing or invalid abstainThreshold \(0 to 1\)$/],
      ['no-threshold', { abstainThreshold: undefined }, /abstainThreshold/],
    ] as const) {
      await expect(loadNetwork(await withCard(name, changes)), name).rejects.toThrow(message);
    }
  });

  /** An edit that swaps the `key` fields of two entries of topology.json's weight list. */
  const swapKeys = (a: string, b: string) => async (copy: string) => {
    const file = path.join(copy, 'topology.json');
    const topology = JSON.parse(await readFile(file, 'utf8')) as { weights: { key: string }[] };
    const [ea, eb] = [a, b].map((k) => topology.weights.find((w) => w.key === k)!);
    [ea!.key, eb!.key] = [b, a];
    await writeFile(file, JSON.stringify(topology, null, 1));
  };

  it('loads a card written before topology.json was hashed (no topologySha256), unchecked', async () => {
    const old = await withCard('card-without-topology-hash', { topologySha256: undefined });
    const loaded = await loadNetwork(old);
    loaded.net.dispose();
  });

  it('names a missing or corrupt topology.json or weights.bin and says the folder is damaged', async () => {
    const cases = [
      ['no-topology', (c: string) => rm(path.join(c, 'topology.json')), /topology\.json: missing: the model folder is damaged$/],
      ['bad-topology', (c: string) => writeFile(path.join(c, 'topology.json'), '{"format": "rcmnet-topo'), /topology\.json: not valid JSON \(.*\): the model folder is damaged$/],
      ['no-weights', (c: string) => rm(path.join(c, 'weights.bin')), /weights\.bin: missing: the model folder is damaged$/],
      // Two same-shape entries' keys swapped: weights.bin and its hash unchanged, but the BatchNorm
      // mean would be loaded as the variance and the variance as the mean.
      ['swapped-keys', swapKeys('stem/bn/mean', 'stem/bn/var'), /topology\.json sha256 [0-9a-f]{64} does not match the model card \([0-9a-f]{64}\); refusing to load$/],
    ] as const;
    for (const [name, edit, message] of cases) {
      const e = await loadNetwork(await damaged(name, edit)).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e, name).toBeInstanceOf(ModelIntegrityError);
      expect((e as Error).message, name).toMatch(message);
    }
  });
});

describe('runState: a finished run\'s model, or one saved during training', () => {
  const recipe = { epochs: 30, patience: null, bestEpoch: 1 };
  const card = (training: Record<string, unknown>, calibration: ModelCard['calibration'] = { temperature: 1, fittedOn: 'none' }) =>
    ({ ...cardFor(net), format: 'rcmnet-model-card/1', weightsSha256: '', training, calibration }) as ModelCard;

  it('reads training.complete where the card has it', () => {
    expect(runState(card({ ...recipe, epochsRun: 1, complete: false }))).toEqual({ finished: false, epochsRun: 1, epochs: 30, calibrated: false });
    // Stopped early by patience, calibrated: finished although fewer epochs ran.
    expect(runState(card({ ...recipe, patience: 2, epochsRun: 7, complete: true }, { temperature: 1.3, fittedOn: 'val' }))).toEqual({ finished: true, epochsRun: 7, epochs: 30, calibrated: true });
    expect(unfinishedWarning('m', card({ ...recipe, epochsRun: 1, complete: false }))).toMatch(/^model m is from an unfinished run: epoch 1 of 30, not calibrated/);
    expect(unfinishedWarning('m', card({ ...recipe, epochsRun: 30, complete: true }))).toBeNull();
  });

  it('cards written before that field: unfinished only when clearly so', () => {
    // The card an epoch's save wrote (no end-of-run calibration step: no eceAfter, no reason), e.g. a run killed after epoch 1 of 30.
    expect(runState(card({ ...recipe, epochsRun: 1 })).finished).toBe(false);
    // Calibrated at the end, but short of its epochs with no patience to end it: a cancelled run.
    expect(runState(card({ ...recipe, epochsRun: 3 }, { temperature: 1.1, fittedOn: 'val', eceBefore: 0.1, eceAfter: 0.05 })).finished).toBe(false);
    // A finished run, calibrated or with the reason it was not.
    expect(runState(card({ ...recipe, epochsRun: 30 }, { temperature: 1.1, fittedOn: 'val', eceBefore: 0.1, eceAfter: 0.05 })).finished).toBe(true);
    expect(runState(card({ ...recipe, epochsRun: 30 }, { temperature: 1, fittedOn: 'none', notFittedBecause: '60 validation image(s)' })).finished).toBe(true);
    // Short of its epochs with patience: perhaps stopped early, so not clearly unfinished.
    expect(runState(card({ ...recipe, patience: 3, epochsRun: 9 }, { temperature: 1, fittedOn: 'none', notFittedBecause: 'x' })).finished).toBe(true);
    // No run record at all (a card from another tool): nothing says it is unfinished.
    expect(runState(card({})).finished).toBe(true);
  });
});
