/**
 * White-cell detection on a stained smear field by nucleus-stain segmentation.
 *
 * Romanowsky/Giemsa stains make WBC nuclei (and basophilic cytoplasm) strongly blue-violet
 * while red cells stay pink: the per-pixel score `B - G` separates them. Steps: score ->
 * threshold (Otsu, with a floor so a field without white cells yields nothing) ->
 * closing to join nuclear lobes -> opening to drop specks -> connected components ->
 * area filter (platelets are small) -> merge nearby fragments -> expand the nucleus box
 * to a square cell box. Parameters are in image-relative units, tuned on synthetic
 * fields and BCCD (docs/model.md has the recall figures and the command).
 */
import { CROP_CONTEXT } from './framing.js';
import { cropRgb, decodeImage, resizeSquare, type ImageInput, type ImageLimits, type RgbImage } from './image.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Detection extends Box {
  score: number;
}

export interface DetectOptions {
  /** Lowest accepted B-G threshold, whatever Otsu says (default 28). */
  minThreshold?: number;
  /** Smallest nucleus area as a fraction of the field area (default 0.0015). */
  minAreaFraction?: number;
  /** Cell side = longest nucleus-box side x expand (default 1.3). */
  expand?: number;
  /** Components closer than this fraction of the field's short side merge (default 0.02). */
  mergeGap?: number;
}

/** Work at no more than this many pixels on the longer side: detection quality needs no more. */
const WORK_SIDE = 640;

function stainScore(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = img.data[i * 3 + 2]! - img.data[i * 3 + 1]!;
  return s;
}

function otsu(values: Float32Array, lo: number, hi: number): number {
  const bins = 256;
  const hist = new Float64Array(bins);
  const scale = (bins - 1) / (hi - lo);
  for (const v of values) hist[Math.max(0, Math.min(bins - 1, Math.round((v - lo) * scale)))]!++;
  let total = 0;
  let sum = 0;
  for (let i = 0; i < bins; i++) {
    total += hist[i]!;
    sum += i * hist[i]!;
  }
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestVar = -1;
  for (let i = 0; i < bins; i++) {
    wB += hist[i]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += i * hist[i]!;
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > bestVar) {
      bestVar = between;
      best = i;
    }
  }
  return lo + best / scale;
}

/** Binary dilation/erosion with a square structuring element, separable (2 passes). */
function morph(mask: Uint8Array, w: number, h: number, r: number, dilate: boolean): Uint8Array {
  if (r <= 0) return mask;
  const tmp = new Uint8Array(mask.length);
  const out = new Uint8Array(mask.length);
  const hit = dilate ? 1 : 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 1 - hit;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) {
        if (mask[y * w + k] === hit) {
          v = hit;
          break;
        }
      }
      tmp[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 1 - hit;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) {
        if (tmp[k * w + x] === hit) {
          v = hit;
          break;
        }
      }
      out[y * w + x] = v;
    }
  }
  return out;
}

interface Component extends Box {
  area: number;
  scoreSum: number;
}

function components(mask: Uint8Array, score: Float32Array, w: number, h: number): Component[] {
  const label = new Int32Array(mask.length).fill(-1);
  const out: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] !== -1) continue;
    const id = out.length;
    let x0 = w;
    let y0 = h;
    let x1 = -1;
    let y1 = -1;
    let area = 0;
    let scoreSum = 0;
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      area++;
      scoreSum += score[p]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const nb = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of nb) {
        if (q >= 0 && mask[q] && label[q] === -1) {
          label[q] = id;
          stack.push(q);
        }
      }
    }
    out.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, area, scoreSum });
  }
  return out;
}

function gap(a: Box, b: Box): number {
  const dx = Math.max(0, Math.max(a.x, b.x) - Math.min(a.x + a.width, b.x + b.width));
  const dy = Math.max(0, Math.max(a.y, b.y) - Math.min(a.y + a.height, b.y + b.height));
  return Math.max(dx, dy);
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The factor detection scales an image by. By the longer side: a 640 x 62,500 strip scaled by its
 * width alone stayed at 40 MP, and its detection held the worker past its lease on every attempt.
 */
export function workScale(width: number, height: number): number {
  const longer = Math.max(width, height);
  return longer > WORK_SIDE ? WORK_SIDE / longer : 1;
}

/** Detects white cells; boxes are in the input image's pixel coordinates, best first. */
export function detectCellsRgb(image: RgbImage, options: DetectOptions = {}): Detection[] {
  const minThreshold = options.minThreshold ?? 28;
  const expand = options.expand ?? 1.3;
  const scale = workScale(image.width, image.height);
  const img = scale < 1 ? downscale(image, scale) : image;
  const { width: w, height: h } = img;
  const score = stainScore(img);
  const threshold = Math.max(minThreshold, otsu(score, -128, 255));
  let mask: Uint8Array = new Uint8Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = score[i]! > threshold ? 1 : 0;
  const short = Math.min(w, h);
  const rClose = Math.max(1, Math.round(short * 0.008));
  const rOpen = Math.max(1, Math.round(short * 0.004));
  mask = morph(morph(mask, w, h, rClose, true), w, h, rClose, false);
  mask = morph(morph(mask, w, h, rOpen, false), w, h, rOpen, true);
  let comps = components(mask, score, w, h).filter((c) => c.area >= (options.minAreaFraction ?? 0.0015) * w * h * 0.25);
  // Merge fragments (lobes whose connecting strand was thinner than the closing radius).
  const mergeGap = (options.mergeGap ?? 0.02) * short;
  let merged = true;
  while (merged) {
    merged = false;
    outer: for (let i = 0; i < comps.length; i++) {
      for (let j = i + 1; j < comps.length; j++) {
        if (gap(comps[i]!, comps[j]!) <= mergeGap) {
          const a = comps[i]!;
          const b = comps[j]!;
          const x = Math.min(a.x, b.x);
          const y = Math.min(a.y, b.y);
          comps[i] = {
            x,
            y,
            width: Math.max(a.x + a.width, b.x + b.width) - x,
            height: Math.max(a.y + a.height, b.y + b.height) - y,
            area: a.area + b.area,
            scoreSum: a.scoreSum + b.scoreSum,
          };
          comps.splice(j, 1);
          merged = true;
          break outer;
        }
      }
    }
  }
  const minArea = (options.minAreaFraction ?? 0.0015) * w * h;
  comps = comps.filter((c) => c.area >= minArea);
  return comps
    .map((c) => {
      // One factor for all cells: a fill-ratio-dependent factor (solid blue cells vs lobed
      // nuclei) was tried and lowered recall on both synthetic fields and BCCD.
      const side = Math.max(c.width, c.height) * expand;
      const cx = c.x + c.width / 2;
      const cy = c.y + c.height / 2;
      const x0 = Math.max(0, cx - side / 2);
      const y0 = Math.max(0, cy - side / 2);
      const x1 = Math.min(w, cx + side / 2);
      const y1 = Math.min(h, cy + side / 2);
      return {
        x: Math.round(x0 / scale),
        y: Math.round(y0 / scale),
        width: Math.round((x1 - x0) / scale),
        height: Math.round((y1 - y0) / scale),
        score: Math.min(1, c.scoreSum / c.area / 128),
      };
    })
    .sort((a, b) => b.score - a.score);
}

function downscale(img: RgbImage, scale: number): RgbImage {
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(x / scale));
      const s = (sy * img.width + sx) * 3;
      const d = (y * w + x) * 3;
      out[d] = img.data[s]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s + 2]!;
    }
  }
  return { data: out, width: w, height: h };
}

export async function detectCells(image: ImageInput, options: DetectOptions & ImageLimits = {}): Promise<Detection[]> {
  return detectCellsRgb(await decodeImage(image, options), options);
}

export { CROP_CONTEXT };

/**
 * Square crops centred on each box with side = CROP_CONTEXT x the box's longest side (the
 * framing the synthetic crops and the platform's snapshots share), resized to `size`.
 */
export async function cropCells(image: ImageInput, boxes: Box[], size: number, options: ImageLimits & { context?: number } = {}): Promise<RgbImage[]> {
  const img = await decodeImage(image, options);
  const context = options.context ?? CROP_CONTEXT;
  const out: RgbImage[] = [];
  for (const b of boxes) {
    const side = Math.max(b.width, b.height) * context;
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    out.push(await resizeSquare(cropRgb(img, cx - side / 2, cy - side / 2, side, side), size));
  }
  return out;
}

/** Recall at an IoU threshold: the fraction of ground-truth boxes matched by some detection. */
export function recallAt(truth: Box[], detections: Box[], threshold = 0.5): { matched: number; total: number } {
  const used = new Set<number>();
  let matched = 0;
  for (const t of truth) {
    let best = -1;
    let bestIou = threshold;
    detections.forEach((d, i) => {
      const v = iou(t, d);
      if (!used.has(i) && v >= bestIou) {
        bestIou = v;
        best = i;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched++;
    }
  }
  return { matched, total: truth.length };
}
