/**
 * Input preparation and augmentation, done in plain JS on 8-bit RGB before the tensor is
 * built: one pass per image applies random resized crop, flips, 90-degree rotations
 * (cells have no canonical orientation) and colour/stain jitter, and writes the
 * normalised float32 values straight into the batch buffer.
 */
import type { Normalization } from './artifact.js';
import type { RgbImage } from './image.js';
import type { Rng } from './rng.js';

export interface AugmentOptions {
  /** Random resized crop: area fraction range (default [0.7, 1]). */
  cropScale?: [number, number];
  /**
   * Share of samples that get the random resized crop (default 0.5); the others keep the whole
   * image, pixel for pixel. A crop always resamples and enlarges (the aspect clamp means no crop
   * covers the whole image), while evaluation sees exact pixels: cropping every sample trains on
   * blurrier, larger cells than the model is then asked about.
   */
  cropProbability?: number;
  flips?: boolean;
  rotate90?: boolean;
  /** Brightness/contrast/saturation amplitude (default 0.15) and per-channel stain gain (0.05). */
  colorJitter?: number;
  stainJitter?: number;
}

export const DEFAULT_AUGMENT: Required<AugmentOptions> = {
  cropScale: [0.7, 1],
  cropProbability: 0.5,
  flips: true,
  rotate90: true,
  colorJitter: 0.15,
  stainJitter: 0.05,
};

export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

/** Per-channel mean/std over (a sample of) the training images. */
export function estimateNormalization(images: RgbImage[], maxImages = 500): Normalization {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let n = 0;
  const step = Math.max(1, Math.floor(images.length / maxImages));
  for (let i = 0; i < images.length; i += step) {
    const d = images[i]!.data;
    for (let p = 0; p < d.length; p += 3) {
      for (let c = 0; c < 3; c++) {
        const v = d[p + c]! / 255;
        sum[c]! += v;
        sq[c]! += v * v;
      }
      n++;
    }
  }
  if (!n) return DEFAULT_NORMALIZATION;
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = sq.map((s, c) => Math.max(0.05, Math.sqrt(Math.max(0, s / n - mean[c]! ** 2)))) as [number, number, number];
  return { mean, std };
}

/** Writes one image (already size x size) normalised into `out` at `offset`, no augmentation. */
export function writeNormalized(img: RgbImage, norm: Normalization, out: Float32Array, offset: number): void {
  const d = img.data;
  const [m0, m1, m2] = norm.mean;
  const [s0, s1, s2] = norm.std;
  for (let p = 0, o = offset; p < d.length; p += 3, o += 3) {
    out[o] = (d[p]! / 255 - m0) / s0;
    out[o + 1] = (d[p + 1]! / 255 - m1) / s1;
    out[o + 2] = (d[p + 2]! / 255 - m2) / s2;
  }
}

export function writeAugmented(img: RgbImage, norm: Normalization, out: Float32Array, offset: number, rng: Rng, opts: AugmentOptions = {}): void {
  const o = { ...DEFAULT_AUGMENT, ...opts };
  const { width: W, height: H, data } = img;
  const size = W;
  // Random resized crop window (aspect 3/4..4/3 like torchvision, clamped to the image).
  const area = rng.uniform(o.cropScale[0], o.cropScale[1]);
  const aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)));
  const crop = rng.uniform(0, 1) < o.cropProbability;
  const cw = crop ? Math.min(W, W * Math.sqrt(area * aspect)) : W;
  const ch = crop ? Math.min(H, H * Math.sqrt(area / aspect)) : H;
  const x0 = rng.uniform(0, W - cw);
  const y0 = rng.uniform(0, H - ch);
  const flipH = o.flips && rng.bool();
  const flipV = o.flips && rng.bool();
  const rot = o.rotate90 ? rng.int(4) : 0;
  const b = 1 + rng.uniform(-o.colorJitter, o.colorJitter);
  const c = 1 + rng.uniform(-o.colorJitter, o.colorJitter);
  const s = 1 + rng.uniform(-o.colorJitter, o.colorJitter);
  const gain = [1 + rng.uniform(-o.stainJitter, o.stainJitter), 1 + rng.uniform(-o.stainJitter, o.stainJitter), 1 + rng.uniform(-o.stainJitter, o.stainJitter)];
  const px = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Output pixel -> unit square, undo rotation/flips, then into the crop window.
      let u = (x + 0.5) / size;
      let v = (y + 0.5) / size;
      for (let r = 0; r < rot; r++) [u, v] = [v, 1 - u];
      if (flipH) u = 1 - u;
      if (flipV) v = 1 - v;
      const sx = Math.min(W - 1, Math.max(0, x0 + u * cw - 0.5));
      const sy = Math.min(H - 1, Math.max(0, y0 + v * ch - 0.5));
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const fx = sx - ix;
      const fy = sy - iy;
      const ix1 = Math.min(W - 1, ix + 1);
      const iy1 = Math.min(H - 1, iy + 1);
      const p00 = (iy * W + ix) * 3;
      const p01 = (iy * W + ix1) * 3;
      const p10 = (iy1 * W + ix) * 3;
      const p11 = (iy1 * W + ix1) * 3;
      for (let k = 0; k < 3; k++) {
        const top = data[p00 + k]! * (1 - fx) + data[p01 + k]! * fx;
        const bot = data[p10 + k]! * (1 - fx) + data[p11 + k]! * fx;
        px[k] = ((top * (1 - fy) + bot * fy) / 255) * gain[k]!;
      }
      const grey = 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!;
      const oo = offset + (y * size + x) * 3;
      for (let k = 0; k < 3; k++) {
        let val = grey + (px[k]! - grey) * s; // saturation
        val = (val - 0.5) * c + 0.5; // contrast
        val *= b; // brightness
        out[oo + k] = (Math.min(1, Math.max(0, val)) - norm.mean[k]!) / norm.std[k]!;
      }
    }
  }
}
