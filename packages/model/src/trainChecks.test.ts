/**
 * What train() refuses, and how early: each of these used to surface only after every image was
 * decoded, or after a whole epoch. Tiny data (a few images a class), no long training.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backend.js';
import { loadDataset } from './data.js';
import { writeSynthDataset } from './synth.js';
import { tempDir } from './testing.js';
import { faults } from './testingFs.js';
import { abstainThresholdFor, train, type TrainEvent } from './train.js';

vi.mock('node:fs/promises', async (original) => (await import('./testingFs.js')).withFaults(await original()));

let dir: string;
let cleanup: () => Promise<void>;
let data: string;
const tiny = { arch: 'rcmnet' as const, size: 32, widthMultiplier: 0.25, batchSize: 8, seed: 1, epochs: 1 };

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  data = path.join(dir, 'data');
  await writeSynthDataset(data, { perClass: 5, size: 32, seed: 5 });
  await initBackend({ quiet: true });
});
afterEach(() => {
  faults.readOnly = '';
});
afterAll(() => cleanup());

/** Runs train() and returns its error and the events it sent before failing. */
async function refusal(options: Parameters<typeof train>[0]): Promise<{ error: Error; events: TrainEvent['type'][] }> {
  const events: TrainEvent['type'][] = [];
  const error = await train(options, (e) => events.push(e.type)).then(
    () => new Error('train() did not refuse'),
    (e: Error) => e,
  );
  return { error, events };
}

describe('train() data checks', () => {
  it('reports how many images cannot be decoded and names the first few (train, then val), in one pass', async () => {
    const ds = await loadDataset(data);
    const bad = await Promise.all(
      ['bad1', 'bad2', 'bad3', 'bad4'].map(async (name) => {
        const file = path.join(dir, `${name}.png`);
        await writeFile(file, 'not an image');
        return file;
      }),
    );
    const rows = [...ds.train.map((s) => `train,${s.label},${s.path}`), ...bad.map((f, i) => `${i % 2 ? 'val' : 'train'},${ds.labels[0]},${f}`)];
    const manifest = path.join(dir, 'bad-images.csv');
    await writeFile(manifest, `split,label,path\n${rows.join('\n')}\n`);
    await expect(train({ ...tiny, data: manifest, out: path.join(dir, 'bad-images') })).rejects.toThrow(
      new RegExp(`^4 of ${ds.train.length + 4} images could not be decoded: \\S*bad1\\.png: .*bad3\\.png: .*bad2\\.png: .*; and 1 more$`),
    );
  });
});

describe('abstention threshold', () => {
  it('refuses one that never abstains (at or below 1/K), and raises the usual 0.5 for two classes', async () => {
    expect(abstainThresholdFor(8, undefined, undefined)).toBe(0.5);
    expect(abstainThresholdFor(8, 0.3, undefined)).toBe(0.3);
    expect(abstainThresholdFor(2, undefined, undefined)).toBe(0.75);
    expect(abstainThresholdFor(2, undefined, 0.5)).toBe(0.75); // a parent's, trained on more classes
    expect(abstainThresholdFor(2, undefined, 0.9)).toBe(0.9);
    expect(() => abstainThresholdFor(2, 0.5, undefined)).toThrow(/never abstains with 2 classes/);
    const { error, events } = await refusal({ ...tiny, data, out: path.join(dir, 'threshold'), abstainThreshold: 0.1 });
    expect(error.message).toMatch(/abstainThreshold 0\.1 never abstains with \d classes/);
    expect(events).toEqual([]);
  });
});

describe('train() output folder checks', () => {
  it('refuses an --out it cannot write before decoding any image, not at the first save', async () => {
    const out = path.join(dir, 'read-only-volume');
    await mkdir(out);
    faults.readOnly = out;
    const { error, events } = await refusal({ ...tiny, data, out });
    expect(error.message).toMatch(/^cannot write the model to .*read-only-volume \(EROFS: .*\): train into a writable folder$/);
    expect(events).toEqual([]);
  });

  it('does not create --out when the data is not there', async () => {
    const out = path.join(dir, 'never-created');
    await expect(train({ ...tiny, data: path.join(dir, 'no-such-data'), out })).rejects.toThrow(/Dataset not found/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('train() --resume checks', () => {
  let run: string;
  beforeAll(async () => {
    run = path.join(dir, 'run');
    await train({ ...tiny, data, out: run });
  });

  it('refuses another recipe before decoding any image, patience included', async () => {
    const batch = await refusal({ ...tiny, batchSize: 4, data, out: run, resume: true });
    expect(batch.error.message).toMatch(/different recipe \(batchSize: 8 in the checkpoint, 4 now\)/);
    expect(batch.events).toEqual([]);
    // Patience decides where a run ends: with another, the resumed run is not the one it continues.
    const patience = await refusal({ ...tiny, patience: 3, data, out: run, resume: true });
    expect(patience.error.message).toMatch(/different recipe \(patience: null in the checkpoint, 3 now\)/);
    expect(patience.events).toEqual([]);
  });

  it('refuses a damaged checkpoint state before decoding any image', async () => {
    const damaged = path.join(dir, 'damaged-state');
    await cp(run, damaged, { recursive: true });
    await writeFile(path.join(damaged, 'checkpoint', 'state.json'), '{"epoch": 0, "hist');
    const { error, events } = await refusal({ ...tiny, data, out: damaged, resume: true });
    expect(error.message).toMatch(/^checkpoint damaged in .*damaged-state.checkpoint \(.*JSON/);
    expect(events).toEqual([]);
  });
});
