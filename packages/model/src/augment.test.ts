import { describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT, DEFAULT_NORMALIZATION, writeAugmented, writeNormalized } from './augment.js';
import type { RgbImage } from './image.js';
import { Rng } from './rng.js';

const size = 16;
// A pattern with detail at the pixel level, like the granules that tell classes apart.
const image: RgbImage = {
  width: size,
  height: size,
  data: Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 37 + (i % 5) * 91) % 256),
};
const exact = new Float32Array(size * size * 3);
writeNormalized(image, DEFAULT_NORMALIZATION, exact, 0);
// Geometry only: colour jitter would change every pixel anyway.
const geometry = { flips: false, rotate90: false, colorJitter: 0, stainJitter: 0 };

/** Share of `n` augmented samples that are the image pixel for pixel. */
function exactShare(cropProbability: number, n = 400): number {
  const rng = new Rng(7);
  const out = new Float32Array(size * size * 3);
  let same = 0;
  for (let i = 0; i < n; i++) {
    writeAugmented(image, DEFAULT_NORMALIZATION, out, 0, rng, { ...geometry, cropProbability });
    if (out.every((v, j) => v === exact[j])) same++;
  }
  return same / n;
}

describe('training augmentation', () => {
  it('resamples every sample it crops: no random resized crop covers the whole image', () => {
    expect(exactShare(1)).toBe(0);
  });

  it('leaves about half the samples uncropped by default, pixel for pixel as evaluation sees them', () => {
    expect(DEFAULT_AUGMENT.cropProbability).toBe(0.5);
    const share = exactShare(DEFAULT_AUGMENT.cropProbability);
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    expect(exactShare(0)).toBe(1);
  });
});
