/**
 * Synthetic May-Grünwald-Giemsa-like smear images, deterministic by seed.
 *
 * Not a substitute for real data: they give tests, the demo and machines without the
 * PBC/BCCD sets something with the right shape. Classes differ the way the real cells
 * do: nucleus shape (round, multi-lobed, kidney, bilobed), nucleus-to-cytoplasm ratio,
 * cytoplasm colour (basophilic blue for activated CAR-T cells) and granules; each image
 * gets stain jitter, chromatin texture, red cells in the background and sensor noise.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng, type RgbImage } from './image.js';
import { Rng, deriveSeed } from './rng.js';

export const SYNTH_CLASSES = ['car_t', 'lymphocyte', 'neutrophil', 'monocyte', 'eosinophil'] as const;
export type SynthClass = (typeof SYNTH_CLASSES)[number];

type Rgb = [number, number, number];

interface Stain {
  gain: Rgb;
  shift: number;
}

interface Disc {
  x: number;
  y: number;
  r: number;
}

interface CellShape {
  /** Radius in pixels (before boundary wobble). */
  radius: number;
  cytoplasm: Rgb;
  nucleus: Rgb;
  /** Signed distance (in cell-radius units) to the nucleus boundary, negative inside. */
  nucleusSdf: (u: number, v: number) => number;
  granules: Disc[];
  granuleColor: Rgb;
  granuleStrength: number;
  wobble: [number, number, number, number];
  /** Light spots (nucleoli, vacuoles) inside the nucleus or cytoplasm. */
  spots: Disc[];
  spotColor: Rgb;
}

const BACKGROUND: Rgb = [238, 224, 226];
const RBC: Rgb = [226, 152, 160];
const RBC_PALLOR: Rgb = [236, 190, 194];

/** Relative cell radius used in fields; crops are framed by the cell box (see cropCells). */
const FIELD_RADIUS: Record<SynthClass, [number, number]> = {
  car_t: [44, 52],
  lymphocyte: [26, 31],
  neutrophil: [36, 42],
  monocyte: [44, 50],
  eosinophil: [37, 43],
};

function circleSdf(u: number, v: number, cx: number, cy: number, r: number): number {
  return Math.hypot(u - cx, v - cy) - r;
}

function segmentSdf(u: number, v: number, ax: number, ay: number, bx: number, by: number, r: number): number {
  const px = u - ax;
  const py = v - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - t * dx, py - t * dy) - r;
}

function scatter(rng: Rng, n: number, maxR: number, size: number, inside: (u: number, v: number) => boolean): Disc[] {
  const out: Disc[] = [];
  for (let tries = 0; out.length < n && tries < n * 20; tries++) {
    const a = rng.uniform(0, 2 * Math.PI);
    const d = Math.sqrt(rng.next()) * maxR;
    const x = Math.cos(a) * d;
    const y = Math.sin(a) * d;
    if (inside(x, y)) out.push({ x, y, r: size * rng.uniform(0.7, 1.3) });
  }
  return out;
}

function jitter(rng: Rng, c: Rgb, amount: number): Rgb {
  return [c[0] + rng.normal() * amount, c[1] + rng.normal() * amount, c[2] + rng.normal() * amount];
}

function makeShape(cls: SynthClass, radius: number, rng: Rng): CellShape {
  const rot = rng.uniform(0, 2 * Math.PI);
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  const R = (u: number, v: number): [number, number] => [u * cos + v * sin, -u * sin + v * cos];
  const wobble: [number, number, number, number] = [rng.uniform(0.02, 0.05), rng.uniform(0, 6.3), rng.uniform(0.01, 0.03), rng.uniform(0, 6.3)];
  const base = { radius, wobble, granules: [] as Disc[], granuleColor: [0, 0, 0] as Rgb, granuleStrength: 0, spots: [] as Disc[], spotColor: [0, 0, 0] as Rgb };
  switch (cls) {
    case 'car_t': {
      // Activated lymphoblast: large, round-oval nucleus with nucleoli, deep blue cytoplasm.
      const ox = rng.uniform(-0.1, 0.1);
      const oy = rng.uniform(-0.1, 0.1);
      const r = rng.uniform(0.66, 0.74);
      const nucleusSdf = (u: number, v: number) => {
        const [a, b] = R(u - ox, v - oy);
        return Math.hypot(a / 1.08, b / 0.94) - r;
      };
      return {
        ...base,
        cytoplasm: jitter(rng, [96, 118, 196], 8),
        nucleus: jitter(rng, [108, 64, 150], 6),
        nucleusSdf,
        spots: scatter(rng, rng.int(2) + 1, 0.35, 0.09, () => true).map((d) => ({ ...d, x: d.x + ox, y: d.y + oy })),
        spotColor: [150, 120, 185],
      };
    }
    case 'lymphocyte': {
      const ox = rng.uniform(-0.08, 0.08);
      const r = rng.uniform(0.8, 0.87);
      return {
        ...base,
        cytoplasm: jitter(rng, [176, 190, 232], 8),
        nucleus: jitter(rng, [70, 38, 105], 6),
        nucleusSdf: (u, v) => circleSdf(u, v, ox, 0, r),
      };
    }
    case 'neutrophil': {
      // Three to four lobes joined by thin chromatin strands.
      const lobes = 3 + rng.int(2);
      const pts: [number, number][] = [];
      const start = rng.uniform(0, 2 * Math.PI);
      for (let i = 0; i < lobes; i++) {
        const a = start + (i * 1.35 * Math.PI) / (lobes - 1) + rng.uniform(-0.15, 0.15);
        pts.push([Math.cos(a) * 0.42, Math.sin(a) * 0.42]);
      }
      const lobeR = rng.uniform(0.2, 0.24);
      const nucleusSdf = (u: number, v: number) => {
        let d = Infinity;
        for (let i = 0; i < pts.length; i++) {
          d = Math.min(d, circleSdf(u, v, pts[i]![0], pts[i]![1], lobeR));
          if (i > 0) d = Math.min(d, segmentSdf(u, v, pts[i - 1]![0], pts[i - 1]![1], pts[i]![0], pts[i]![1], 0.05));
        }
        return d;
      };
      return {
        ...base,
        cytoplasm: jitter(rng, [222, 196, 214], 6),
        nucleus: jitter(rng, [88, 44, 120], 6),
        nucleusSdf,
        granules: scatter(rng, 90, 0.95, 0.035, () => true),
        granuleColor: [190, 140, 185],
        granuleStrength: 0.6,
      };
    }
    case 'monocyte': {
      // Kidney-shaped nucleus: a disc with an off-centre notch; grey-blue vacuolated cytoplasm.
      const r = rng.uniform(0.58, 0.64);
      const notch = rng.uniform(0.34, 0.42);
      const nucleusSdf = (u: number, v: number) => {
        const [a, b] = R(u, v);
        return Math.max(Math.hypot(a / 1.1, b) - r, -circleSdf(a, b, r * 1.05, 0, notch));
      };
      return {
        ...base,
        cytoplasm: jitter(rng, [186, 182, 214], 6),
        nucleus: jitter(rng, [112, 78, 150], 6),
        nucleusSdf,
        spots: scatter(rng, 3 + rng.int(4), 0.85, 0.07, (u, v) => nucleusSdf(u, v) > 0.05),
        spotColor: [228, 224, 236],
      };
    }
    case 'eosinophil': {
      // Bilobed nucleus, cytoplasm packed with large orange-red granules.
      const sep = rng.uniform(0.26, 0.34);
      const lr = rng.uniform(0.27, 0.32);
      const nucleusSdf = (u: number, v: number) => {
        const [a, b] = R(u, v);
        return Math.min(circleSdf(a, b, -sep, 0, lr), circleSdf(a, b, sep, 0, lr), segmentSdf(a, b, -sep, 0, sep, 0, 0.06));
      };
      return {
        ...base,
        cytoplasm: jitter(rng, [232, 186, 170], 6),
        nucleus: jitter(rng, [92, 48, 120], 6),
        nucleusSdf,
        granules: scatter(rng, 70, 0.95, 0.075, () => true),
        granuleColor: [226, 112, 72],
        granuleStrength: 0.9,
      };
    }
  }
}

/** Cheap deterministic value noise for chromatin texture. */
function hashNoise(x: number, y: number, seed: number): number {
  let h = Math.imul(Math.floor(x) * 374761393 + Math.floor(y) * 668265263 + seed, 1274126177);
  h = Math.imul(h ^ (h >>> 13), 1103515245);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

class Canvas {
  readonly px: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
    fill: Rgb,
  ) {
    this.px = new Float32Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.px.set(fill, i * 3);
  }

  blend(i: number, c: Rgb, a: number): void {
    if (a <= 0) return;
    const o = i * 3;
    this.px[o] = this.px[o]! * (1 - a) + c[0] * a;
    this.px[o + 1] = this.px[o + 1]! * (1 - a) + c[1] * a;
    this.px[o + 2] = this.px[o + 2]! * (1 - a) + c[2] * a;
  }

  toRgb(stain: Stain, rng: Rng, noise: number): RgbImage {
    const data = new Uint8Array(this.width * this.height * 3);
    for (let i = 0; i < data.length; i++) {
      const v = this.px[i]! * stain.gain[i % 3]! + stain.shift + rng.normal() * noise;
      data[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
    return { data, width: this.width, height: this.height };
  }
}

const cover = (dPx: number) => Math.max(0, Math.min(1, 0.5 - dPx));

function drawRbc(canvas: Canvas, cx: number, cy: number, r: number): void {
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(canvas.width - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(canvas.height - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const a = cover(d - r);
      if (a <= 0) continue;
      // Biconcave disc: paler centre.
      const t = Math.max(0, 1 - d / (r * 0.55));
      const c: Rgb = [RBC[0] + (RBC_PALLOR[0] - RBC[0]) * t, RBC[1] + (RBC_PALLOR[1] - RBC[1]) * t, RBC[2] + (RBC_PALLOR[2] - RBC[2]) * t];
      canvas.blend(y * canvas.width + x, c, a * 0.9);
    }
  }
}

function drawPlatelet(canvas: Canvas, cx: number, cy: number, r: number): void {
  for (let y = Math.floor(cy - r - 1); y <= Math.ceil(cy + r + 1); y++) {
    for (let x = Math.floor(cx - r - 1); x <= Math.ceil(cx + r + 1); x++) {
      if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) continue;
      canvas.blend(y * canvas.width + x, [150, 100, 170], cover(Math.hypot(x + 0.5 - cx, y + 0.5 - cy) - r) * 0.85);
    }
  }
}

/** Draws one white cell; returns its tight box (pixels with coverage > 0.5). */
function drawCell(canvas: Canvas, cls: SynthClass, cx: number, cy: number, radius: number, rng: Rng) {
  const s = makeShape(cls, radius, rng);
  const texSeed = rng.int(1 << 30);
  const reach = radius * 1.1 + 2;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(canvas.width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(canvas.height - 1, Math.ceil(cy + reach));
  let bx0 = Infinity;
  let by0 = Infinity;
  let bx1 = -Infinity;
  let by1 = -Infinity;
  const texScale = Math.max(1.5, radius / 10);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = (x + 0.5 - cx) / radius;
      const v = (y + 0.5 - cy) / radius;
      const theta = Math.atan2(v, u);
      const rr = 1 + s.wobble[0] * Math.sin(3 * theta + s.wobble[1]) + s.wobble[2] * Math.sin(5 * theta + s.wobble[3]);
      const cellA = cover((Math.hypot(u, v) - rr) * radius);
      if (cellA <= 0) continue;
      const i = y * canvas.width + x;
      if (cellA > 0.5) {
        bx0 = Math.min(bx0, x);
        by0 = Math.min(by0, y);
        bx1 = Math.max(bx1, x);
        by1 = Math.max(by1, y);
      }
      canvas.blend(i, s.cytoplasm, cellA);
      for (const g of s.granules) {
        const ga = cover(circleSdf(u, v, g.x, g.y, g.r) * radius);
        if (ga > 0) canvas.blend(i, s.granuleColor, ga * s.granuleStrength * cellA);
      }
      const nA = cover(s.nucleusSdf(u, v) * radius) * cellA;
      if (nA > 0) {
        // Clumped chromatin: darker and lighter patches.
        const n = hashNoise(x / texScale, y / texScale, texSeed) - 0.5;
        const k = 1 + n * 0.25;
        canvas.blend(i, [s.nucleus[0] * k, s.nucleus[1] * k, s.nucleus[2] * k], nA);
      }
      for (const sp of s.spots) {
        const sa = cover(circleSdf(u, v, sp.x, sp.y, sp.r) * radius);
        if (sa > 0) canvas.blend(i, s.spotColor, sa * 0.6 * cellA);
      }
    }
  }
  return { x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 };
}

function randomStain(rng: Rng, strength = 1): Stain {
  return {
    gain: [1 + rng.normal() * 0.05 * strength, 1 + rng.normal() * 0.05 * strength, 1 + rng.normal() * 0.05 * strength],
    shift: rng.normal() * 6 * strength,
  };
}

export interface SynthCellsOptions {
  perClass: number;
  /** Output side in pixels (default 64). */
  size?: number;
  seed?: number;
  classes?: readonly SynthClass[];
}

export interface SynthCell {
  label: SynthClass;
  image: RgbImage;
}

/** Cell crop framed the way `cropCells` frames a detected cell: side = 1.3 x the box. */
export function synthCell(cls: SynthClass, size: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const canvas = new Canvas(size, size, BACKGROUND);
  // Wide scale jitter: detected boxes frame cells less exactly than ground truth does.
  const radius = (size / 2.6) * rng.uniform(0.75, 1.12);
  for (let i = 0; i < 5; i++) {
    const a = rng.uniform(0, 2 * Math.PI);
    const rbcR = radius * rng.uniform(0.55, 0.75);
    drawRbc(canvas, size / 2 + Math.cos(a) * radius * 1.45, size / 2 + Math.sin(a) * radius * 1.45, rbcR);
  }
  drawCell(canvas, cls, size / 2 + rng.uniform(-0.06, 0.06) * size, size / 2 + rng.uniform(-0.06, 0.06) * size, radius, rng);
  return canvas.toRgb(randomStain(rng), rng, 3);
}

export function synthCells(options: SynthCellsOptions): SynthCell[] {
  const size = options.size ?? 64;
  const seed = options.seed ?? 1;
  const classes = options.classes ?? SYNTH_CLASSES;
  const out: SynthCell[] = [];
  for (let i = 0; i < options.perClass; i++) {
    for (const label of classes) out.push({ label, image: synthCell(label, size, deriveSeed(seed, label, i)) });
  }
  return out;
}

export interface FieldCell {
  label: SynthClass;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SynthField {
  image: RgbImage;
  cells: FieldCell[];
}

export interface SynthFieldOptions {
  width?: number;
  height?: number;
  seed?: number;
  /** Number of white cells (default 3-6, chosen by the seed). */
  cells?: number;
  classes?: readonly SynthClass[];
  /** Red cells per megapixel (default 330: a moderately dense smear). */
  rbcDensity?: number;
}

/** A whole smear field (BCCD-like 640x480): red cells, platelets and white cells at known boxes. */
export function synthField(options: SynthFieldOptions = {}): SynthField {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const rng = new Rng(deriveSeed(options.seed ?? 1, 'field'));
  const classes = options.classes ?? SYNTH_CLASSES;
  const canvas = new Canvas(width, height, BACKGROUND);
  const nRbc = Math.round(((options.rbcDensity ?? 330) * width * height) / 1e6);
  for (let i = 0; i < nRbc; i++) drawRbc(canvas, rng.uniform(0, width), rng.uniform(0, height), rng.uniform(16, 21));
  for (let i = 0; i < Math.round((width * height) / 60000); i++) drawPlatelet(canvas, rng.uniform(0, width), rng.uniform(0, height), rng.uniform(2.5, 4.5));
  const n = options.cells ?? 3 + rng.int(4);
  const placed: { x: number; y: number; r: number }[] = [];
  const cells: FieldCell[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.pick(classes);
    const [lo, hi] = FIELD_RADIUS[label];
    const r = rng.uniform(lo, hi);
    for (let tries = 0; tries < 200; tries++) {
      const x = rng.uniform(r + 6, width - r - 6);
      const y = rng.uniform(r + 6, height - r - 6);
      if (placed.every((p) => Math.hypot(p.x - x, p.y - y) > p.r + r + 24)) {
        placed.push({ x, y, r });
        cells.push({ label, ...drawCell(canvas, label, x, y, r, rng) });
        break;
      }
    }
  }
  return { image: canvas.toRgb(randomStain(rng, 0.6), rng, 3), cells };
}

export interface WriteSynthOptions extends SynthCellsOptions {
  /** Fraction of each class written to val/ (default 0.2). */
  valFraction?: number;
}

/**
 * Writes `DIR/{train,val}/<class>/<n>.png` and `DIR/manifest.csv` (split,label,path):
 * both loader layouts work on the result.
 */
export async function writeSynthDataset(outDir: string, options: WriteSynthOptions): Promise<{ count: number; manifest: string }> {
  const cells = synthCells(options);
  const valEvery = Math.max(2, Math.round(1 / (options.valFraction ?? 0.2)));
  const lines = ['split,label,path'];
  const seen = new Map<string, number>();
  for (const c of cells) {
    const k = seen.get(c.label) ?? 0;
    seen.set(c.label, k + 1);
    const split = k % valEvery === valEvery - 1 ? 'val' : 'train';
    const rel = `${split}/${c.label}/${c.label}_${String(k).padStart(5, '0')}.png`;
    await mkdir(path.join(outDir, split, c.label), { recursive: true });
    await writeFile(path.join(outDir, rel), await encodePng(c.image));
    lines.push(`${split},${c.label},${rel}`);
  }
  const manifest = path.join(outDir, 'manifest.csv');
  await writeFile(manifest, lines.join('\n') + '\n');
  return { count: cells.length, manifest };
}
