import { describe, expect, it } from 'vitest';
import { cropCells, detectCells, detectCellsRgb, iou, recallAt, workScale } from './detect.js';
import { SYNTH_CLASSES, synthCell, synthCells, synthField } from './synth.js';

describe('synthetic data', () => {
  it('is deterministic by seed and differs across seeds', () => {
    const a = synthCells({ perClass: 2, size: 32, seed: 9 });
    const b = synthCells({ perClass: 2, size: 32, seed: 9 });
    const c = synthCells({ perClass: 2, size: 32, seed: 10 });
    expect(a.map((x) => x.label)).toEqual(b.map((x) => x.label));
    expect(Buffer.from(a[0]!.image.data).equals(Buffer.from(b[0]!.image.data))).toBe(true);
    expect(Buffer.from(a[0]!.image.data).equals(Buffer.from(c[0]!.image.data))).toBe(false);
    expect(new Set(a.map((x) => x.label))).toEqual(new Set(SYNTH_CLASSES));
  });

  it('gives classes distinct colour signatures (eosinophil granules are orange, CAR-T cytoplasm blue)', () => {
    const meanRgb = (cls: (typeof SYNTH_CLASSES)[number]) => {
      const img = synthCell(cls, 48, 3);
      const s = [0, 0, 0];
      for (let i = 0; i < img.data.length; i++) s[i % 3]! += img.data[i]!;
      return s.map((v) => v / (img.data.length / 3));
    };
    const eos = meanRgb('eosinophil');
    const cart = meanRgb('car_t');
    expect(eos[0]! - eos[2]!).toBeGreaterThan(cart[0]! - cart[2]!);
  });

  it('fields carry ground-truth boxes that lie inside the image', () => {
    const f = synthField({ seed: 2, cells: 5 });
    expect(f.image.width).toBe(640);
    expect(f.cells).toHaveLength(5);
    for (const c of f.cells) {
      expect(c.x).toBeGreaterThanOrEqual(0);
      expect(c.x + c.width).toBeLessThanOrEqual(640);
      expect(c.width).toBeGreaterThan(40);
    }
  });
});

describe('cell detection', () => {
  it('finds the white cells of synthetic fields (recall at IoU 0.5)', () => {
    let matched = 0;
    let total = 0;
    for (let seed = 100; seed < 110; seed++) {
      const f = synthField({ seed });
      const r = recallAt(f.cells, detectCellsRgb(f.image));
      matched += r.matched;
      total += r.total;
    }
    expect(matched / total).toBeGreaterThanOrEqual(0.8);
  });

  it('works on a tall strip at its longer side, with boxes in the strip\'s own coordinates', () => {
    // Fields stacked into a portrait strip: scaled by its height (not left at full size because
    // its width is small), and each field's cells found where they are in the strip.
    let matched = 0;
    let total = 0;
    for (let seed = 120; seed < 124; seed++) {
      const a = synthField({ seed });
      const b = synthField({ seed: seed + 50 });
      const { width, height } = a.image;
      const data = new Uint8Array(width * height * 2 * 3);
      data.set(a.image.data, 0);
      data.set(b.image.data, width * height * 3);
      const truth = [...a.cells, ...b.cells.map((c) => ({ ...c, y: c.y + height }))];
      const found = detectCellsRgb({ data, width, height: height * 2 });
      expect(found.every((d) => d.x >= 0 && d.y >= 0 && d.x + d.width <= width + 1 && d.y + d.height <= 2 * height + 1)).toBe(true);
      const r = recallAt(truth, found);
      matched += r.matched;
      total += r.total;
    }
    expect(matched / total).toBeGreaterThanOrEqual(0.7);
    // Any shape is worked on at no more than 640 pixels on its longer side.
    expect(workScale(640, 62_500) * 62_500).toBeCloseTo(640);
    expect(workScale(4000, 3000) * 4000).toBeCloseTo(640);
    expect(workScale(640, 480)).toBe(1);
  });

  it('returns nothing on a field with red cells only', async () => {
    const f = synthField({ seed: 4, cells: 0 });
    expect(await detectCells(f.image)).toEqual([]);
  });

  it('crops detected cells to the requested size', async () => {
    const f = synthField({ seed: 7, cells: 3 });
    const boxes = await detectCells(f.image);
    const crops = await cropCells(f.image, boxes, 40);
    expect(crops).toHaveLength(boxes.length);
    for (const c of crops) expect([c.width, c.height, c.data.length]).toEqual([40, 40, 40 * 40 * 3]);
  });

  it('iou and recall arithmetic', () => {
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBeCloseTo(50 / 150);
    expect(recallAt([{ x: 0, y: 0, width: 10, height: 10 }], [{ x: 1, y: 1, width: 10, height: 10 }])).toEqual({ matched: 1, total: 1 });
    expect(recallAt([{ x: 0, y: 0, width: 10, height: 10 }], [{ x: 6, y: 6, width: 10, height: 10 }])).toEqual({ matched: 0, total: 1 });
  });
});
