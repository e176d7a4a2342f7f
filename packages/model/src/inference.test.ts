import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng, ImageDecodeError } from './image.js';
import { loadImages, UndecodableImagesError } from './inference.js';
import { synthCell } from './synth.js';
import { tempDir } from './testing.js';

let dir: string;
let cleanup: () => Promise<void>;
let good: Buffer;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  good = await encodePng(synthCell('lymphocyte', 32, 1));
});
afterAll(() => cleanup());

/** The value of `read()` once it has stopped changing for `quietMs`: the workers have gone idle. */
async function settled(read: () => number, quietMs = 300): Promise<number> {
  let last = read();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    if (read() === last) return last;
    last = read();
  }
}

describe('loadImages', () => {
  it('stops decoding the rest of the list after the first file that fails', async () => {
    const inputs = [Buffer.from('not an image'), ...Array.from({ length: 300 }, () => good)];
    let done = 0;
    await expect(loadImages(inputs, 32, {}, { onProgress: (d) => (done = d) })).rejects.toBeInstanceOf(ImageDecodeError);
    // Only the files the other three workers had already started may finish.
    expect(await settled(() => done)).toBeLessThanOrEqual(3);
  });

  it('stops when its signal fires, each worker after the file it is on', async () => {
    const controller = new AbortController();
    let done = 0;
    const loading = loadImages(Array.from({ length: 300 }, () => good), 32, {}, {
      signal: controller.signal,
      onProgress: (d) => {
        done = d;
        if (d === 10) controller.abort(new Error('cancelled'));
      },
    });
    await expect(loading).rejects.toThrow('cancelled');
    expect(await settled(() => done)).toBeLessThanOrEqual(13);
  });

  it('with collectFailures reports how many files failed and names the first few, in list order', async () => {
    const names = ['ok0', 'bad1', 'ok2', 'bad2', 'bad3', 'ok5', 'bad4', 'bad5'];
    const files = await Promise.all(
      names.map(async (name) => {
        const file = path.join(dir, `${name}.png`);
        await writeFile(file, name.startsWith('ok') ? good : Buffer.from('not an image'));
        return file;
      }),
    );
    const e = await loadImages(files, 32, {}, { collectFailures: true }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(UndecodableImagesError);
    expect((e as UndecodableImagesError).failures.map((f) => path.basename(f.file))).toEqual(['bad1.png', 'bad2.png', 'bad3.png', 'bad4.png', 'bad5.png']);
    expect((e as Error).message).toMatch(/^5 of 8 images could not be decoded: \S*bad1\.png: not a recognised image .*; \S*bad2\.png: .*; \S*bad3\.png: .*; and 2 more$/);
  });
});
