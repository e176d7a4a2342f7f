/**
 * What train() refuses, and how early: each of these used to surface only after every image was
 * decoded, or after a whole epoch. Tiny data (a few images a class), no long training.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backend.js';
import { loadDataset } from './data.js';
import { writeSynthDataset } from './synth.js';
import { tempDir } from './testing.js';
import { faults } from './testingFs.js';
import { OptionError } from './options.js';
import { abstainThresholdFor, checkDecodedFits, checkTrainOptions, train, TrainingCancelled, type TrainEvent } from './train.js';

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

describe('option checks', () => {
  const base = { data: 'unused', out: 'unused' };

  it('names the CLI flag (and the option key), refuses --head-epochs without --from, and throws an OptionError', () => {
    expect(() => checkTrainOptions({ ...base, widthMultiplier: 5 })).toThrow(/^--width \(widthMultiplier\) must be in \(0, 4\], got 5$/);
    expect(() => checkTrainOptions({ ...base, batchSize: 0 })).toThrow(/^--batch \(batchSize\) must be an integer >= 1, got 0$/);
    expect(() => checkTrainOptions({ ...base, epochs: 0 })).toThrow(/^--epochs must be an integer >= 1, got 0$/);
    expect(() => checkTrainOptions({ ...base, epochs: 0 })).toThrow(OptionError);
    // Only transfer learning has a frozen-backbone phase: without --from the count was silently ignored.
    expect(() => checkTrainOptions({ ...base, headEpochs: 5 })).toThrow(/^--head-epochs \(headEpochs\) applies to transfer learning only: give --from MODEL too/);
    expect(() => checkTrainOptions({ ...base, headEpochs: 5, from: 'base-model' })).not.toThrow();
    // A width the attention heads cannot split: refused here, before any data is read; not for a network without heads.
    expect(() => checkTrainOptions({ ...base, widthMultiplier: 0.3 })).toThrow(/^--width \(widthMultiplier\) 0.3 gives rcmnet a last-stage width of 154/);
    expect(() => checkTrainOptions({ ...base, widthMultiplier: 0.3 })).toThrow(OptionError);
    expect(() => checkTrainOptions({ ...base, widthMultiplier: 0.3, arch: 'resnet18' })).not.toThrow();
  });

  it('refuses a --size whose decoded images would not fit in memory, before decoding any', async () => {
    const gib16 = 16 * 2 ** 30;
    // The PBC set at 1024 px: 43 GB of 8-bit RGB, killed by the OOM killer minutes into decoding.
    expect(() => checkDecodedFits(13_599, 1024, '--size 1024', gib16)).toThrow(/^--size 1024 needs 42\.8 GB to hold 13599 decoded images, over half of this machine's 17\.2 GB: train at a smaller --size/);
    expect(() => checkDecodedFits(13_599, 224, '--size 224', gib16)).not.toThrow(); // 2.0 GB
    // Through train(): 25 images at 65536 px are 322 GB, more than any machine this runs on.
    const { error, events } = await refusal({ ...tiny, size: 65_536, data, out: path.join(dir, 'huge-size') });
    expect(error).toBeInstanceOf(OptionError);
    expect(error.message).toMatch(/^--size 65536 needs \d+\.\d GB to hold \d+ decoded images/);
    expect(events).toEqual([]);
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

  it('with no checkpoint, compares the model in --out and refuses to train another run, or the same one, over it', async () => {
    const settled = path.join(dir, 'settled');
    await cp(run, settled, { recursive: true });
    await rm(path.join(settled, 'checkpoint'), { recursive: true }); // the platform deletes a settled run's
    const metrics = await readFile(path.join(settled, 'metrics.jsonl'), 'utf8');
    const labels = (await loadDataset(data)).labels;
    for (const [other, message] of [
      [{ widthMultiplier: 0.5 }, /^--resume of another run \(network .* in the model in --out, .* now\)/],
      [{ labels: [...labels].reverse() }, /^--resume of another run \(labels .* in the model in --out, .* now\)/],
      [{ batchSize: 4 }, /^--resume with a different recipe \(batchSize: 8 in the model in --out, 4 now\)/],
      // The same run: nothing of it to continue, and its model (perhaps registered) is not trained over.
      [{}, /^--resume: .*settled holds this run's model \(1 of 1 epochs\) but no checkpoint to continue from/],
    ] as const) {
      const { error, events } = await refusal({ ...tiny, ...other, data, out: settled, resume: true });
      expect(error.message).toMatch(message);
      expect(events).toEqual([]);
    }
    expect(await readFile(path.join(settled, 'metrics.jsonl'), 'utf8')).toBe(metrics);
  });

  it('with no checkpoint and the model of epoch 1 of several (killed before its first checkpoint), starts that run over', async () => {
    const killed = path.join(dir, 'killed-before-checkpoint');
    await cp(run, killed, { recursive: true });
    await rm(path.join(killed, 'checkpoint'), { recursive: true });
    const cardPath = path.join(killed, 'model-card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { training: Record<string, unknown> };
    await writeFile(cardPath, JSON.stringify({ ...card, training: { ...card.training, epochs: 2 } }));
    // Stopped at the first decoded image: far enough to show it was not refused.
    const controller = new AbortController();
    const events: TrainEvent['type'][] = [];
    const run2 = train({ ...tiny, epochs: 2, warmupEpochs: card.training['warmupEpochs'] as number, data, out: killed, resume: true, signal: controller.signal }, (e) => {
      events.push(e.type);
      if (e.type === 'decode') controller.abort();
    });
    await expect(run2).rejects.toBeInstanceOf(TrainingCancelled);
    expect(events[0]).toBe('decode');
    expect(existsSync(path.join(killed, 'metrics.jsonl'))).toBe(false);
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
