/**
 * Grad-CAM (Selvaraju et al. 2017) on the last stage's feature map: channel weights are
 * the spatially averaged gradients of the class logit; the map is ReLU(sum_k w_k A_k),
 * upsampled and blended over the cell as a PNG a reviewer can toggle.
 */
import type { Network } from './architecture.js';
import type { Normalization } from './artifact.js';
import { writeNormalized } from './augment.js';
import { encodePng, type RgbImage } from './image.js';
import { tf } from './tf.js';

/** Heat map in [0, 1] at the feature map's resolution, plus the class it explains. */
export function gradCam(net: Network, img: RgbImage, norm: Normalization, classIndex?: number): { map: Float32Array; width: number; height: number; classIndex: number } {
  const size = net.config.inputSize;
  const buf = new Float32Array(size * size * 3);
  writeNormalized(img, norm, buf, 0);
  return tf.tidy(() => {
    const x = tf.tensor4d(buf, [1, size, size, 3]);
    const features = net.features(x, { training: false });
    const cls = classIndex ?? (tf.argMax(net.head(features), 1).dataSync()[0] as number);
    const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.slice(net.head(a as tf.Tensor4D), [0, cls], [1, 1])))(features);
    const weights = tf.mean(grad, [1, 2], true);
    const cam = tf.relu(tf.sum(tf.mul(features, weights), 3));
    const values = cam.dataSync() as Float32Array;
    const max = values.reduce((m, v) => Math.max(m, v), 0);
    const map = Float32Array.from(values, (v) => (max > 0 ? v / max : 0));
    return { map, width: features.shape[2], height: features.shape[1], classIndex: cls };
  });
}

/** Jet-like colour map: blue (0) -> cyan -> yellow -> red (1). */
function colormap(t: number): [number, number, number] {
  const c = (x: number) => Math.max(0, Math.min(1, x));
  return [c(1.5 - Math.abs(4 * t - 3)) * 255, c(1.5 - Math.abs(4 * t - 2)) * 255, c(1.5 - Math.abs(4 * t - 1)) * 255];
}

function sampleBilinear(map: Float32Array, w: number, h: number, u: number, v: number): number {
  const x = Math.min(w - 1, Math.max(0, u * w - 0.5));
  const y = Math.min(h - 1, Math.max(0, v * h - 0.5));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const top = map[y0 * w + x0]! * (1 - fx) + map[y0 * w + x1]! * fx;
  const bot = map[y1 * w + x0]! * (1 - fx) + map[y1 * w + x1]! * fx;
  return top * (1 - fy) + bot * fy;
}

/** Blends the heat map over `base` (any size) and encodes a PNG. */
export async function overlayPng(base: RgbImage, map: Float32Array, mw: number, mh: number, alpha = 0.4): Promise<Buffer> {
  const out = new Uint8Array(base.data.length);
  for (let y = 0; y < base.height; y++) {
    for (let x = 0; x < base.width; x++) {
      const t = sampleBilinear(map, mw, mh, (x + 0.5) / base.width, (y + 0.5) / base.height);
      const c = colormap(t);
      // Low activations stay transparent so the cell itself remains readable.
      const a = alpha * Math.max(0, Math.min(1, (t - 0.15) / 0.6));
      const o = (y * base.width + x) * 3;
      for (let k = 0; k < 3; k++) out[o + k] = Math.round(base.data[o + k]! * (1 - a) + c[k]! * a);
    }
  }
  return encodePng({ data: out, width: base.width, height: base.height });
}
