/**
 * What train() refuses, and how early: each of these used to surface only after every image was
 * decoded, or after a whole epoch. Tiny data (a few images a class), no long training.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { loadDataset } from './data.js';
import { writeSynthDataset } from './synth.js';
import { tempDir } from './testing.js';
import { train } from './train.js';

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
afterAll(() => cleanup());

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
