import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, encodePng, ImageDecodeError, validateImage } from './image.js';
import { synthCell } from './synth.js';
import { tempDir } from './testing.js';

let dir: string;
let cleanup: () => Promise<void>;
let png: Buffer;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  png = await encodePng(synthCell('lymphocyte', 48, 1));
});
afterAll(() => cleanup());

async function rejection(p: Promise<unknown>): Promise<ImageDecodeError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImageDecodeError);
  return e as ImageDecodeError;
}

describe('decodeImage / validateImage', () => {
  it('decodes PNG and JPEG files and buffers to 8-bit RGB', async () => {
    const file = path.join(dir, 'cell.png');
    await writeFile(file, png);
    const a = await decodeImage(file);
    expect([a.width, a.height, a.data.length]).toEqual([48, 48, 48 * 48 * 3]);
    const jpeg = await sharp(png).jpeg().toBuffer();
    expect((await decodeImage(jpeg)).width).toBe(48);
    // Greyscale and alpha inputs come out as RGB too.
    const grey = await sharp(png).greyscale().ensureAlpha().png().toBuffer();
    expect((await decodeImage(grey)).data.length).toBe(48 * 48 * 3);
    expect(await validateImage(png)).toEqual({ format: 'png', width: 48, height: 48 });
  });

  it('lays transparent pixels on white, not on the colour they hold', async () => {
    // Left half: opaque red; right half: fully transparent black.
    const rgba = Buffer.alloc(4 * 4 * 4);
    for (let i = 0; i < 16; i++) rgba.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 0, 0], i * 4);
    const img = await decodeImage(await sharp(rgba, { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer());
    expect([...img.data.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...img.data.subarray(9, 12)]).toEqual([255, 255, 255]);
  });

  it('reports and decodes an image turned by its EXIF orientation as it is shown', async () => {
    const turned = await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 10, g: 200, b: 90 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await validateImage(turned)).toMatchObject({ width: 32, height: 64 });
    expect(await decodeImage(turned)).toMatchObject({ width: 32, height: 64 });
  });

  it('rejects an empty file, naming it', async () => {
    const file = path.join(dir, 'empty.png');
    await writeFile(file, Buffer.alloc(0));
    const e = await rejection(decodeImage(file));
    expect(e.code).toBe('EMPTY');
    expect(e.message).toContain('empty.png');
  });

  it('rejects text and random bytes as not an image', async () => {
    const file = path.join(dir, 'notes.jpg');
    await writeFile(file, 'this is not a picture\n');
    expect((await rejection(decodeImage(file))).code).toBe('NOT_AN_IMAGE');
    const noise = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 97) % 256));
    const e = await rejection(decodeImage(noise, { name: 'upload-17.png' }));
    expect(e.message).toMatch(/^upload-17\.png: /);
  });

  it('rejects truncated PNG and JPEG data', async () => {
    const truncatedPng = png.subarray(0, Math.floor(png.length * 0.6));
    expect((await rejection(decodeImage(truncatedPng, { name: 't.png' }))).code).toBe('CORRUPT');
    const jpeg = await sharp(png).resize(256, 256).jpeg().toBuffer();
    expect((await rejection(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.5)), { name: 't.jpg' }))).code).toBe('CORRUPT');
  });

  it('rejects files over the byte limit and images over the pixel limit (decompression bombs)', async () => {
    expect((await rejection(decodeImage(png, { maxBytes: 100 }))).code).toBe('TOO_LARGE');
    // A 5000x5000 single-colour PNG is a few kB on disk but 75 MB decoded.
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#ffffff' } }).png().toBuffer();
    expect(bomb.length).toBeLessThan(200_000);
    const e = await rejection(decodeImage(bomb, { maxPixels: 10_000_000, name: 'bomb.png' }));
    expect(e.code).toBe('TOO_MANY_PIXELS');
    expect(e.message).toContain('5000x5000');
  });

  it('reports a folder given as an image as this image\'s error (not a bare EISDIR for the batch)', async () => {
    const e = await rejection(decodeImage(dir));
    expect(e.code).toBe('UNREADABLE');
    expect(e.message).toContain(dir);
    expect(e.message).toMatch(/not a file/);
  });

  it('reports unreadable paths', async () => {
    expect((await rejection(decodeImage(path.join(dir, 'missing.png')))).code).toBe('UNREADABLE');
  });
});
