/** Batched forward passes shared by training (validation), evaluation and prediction. */
import type { Network } from './architecture.js';
import type { Normalization } from './artifact.js';
import { writeNormalized } from './augment.js';
import { decodeImage, resizeSquare, type ImageInput, type ImageLimits, type RgbImage } from './image.js';
import { tf } from './tf.js';

/** Decodes and resizes images with bounded concurrency (sharp runs on libuv threads). */
export async function loadImages(inputs: ImageInput[], size: number, limits: ImageLimits = {}, concurrency = 4): Promise<RgbImage[]> {
  const out = new Array<RgbImage>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      out[i] = await resizeSquare(await decodeImage(inputs[i]!, limits), size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return out;
}

/**
 * The eight symmetries of a square (rotations by 90° and their mirror images) of an NHWC
 * batch. A cell on a smear has no preferred orientation, and training augments with the
 * same group, so these are equally valid views of one image.
 */
export function dihedralViews(x: tf.Tensor4D): tf.Tensor4D[] {
  const t = tf.transpose(x, [0, 2, 1, 3]);
  return [x, t].flatMap((v) => [v, tf.reverse(v, 1), tf.reverse(v, 2), tf.reverse(v, [1, 2])]);
}

/**
 * Logits (rows of `numClasses`) for images already at the network's input size. With
 * `tta`, the mean logits over the eight dihedral views (test-time augmentation: 8x the
 * compute; the softmax of the mean logits is the views' normalised geometric mean).
 */
export async function logitsFor(net: Network, images: RgbImage[], norm: Normalization, batchSize = 32, { tta = false } = {}): Promise<Float32Array> {
  const k = net.config.numClasses;
  const size = net.config.inputSize;
  const out = new Float32Array(images.length * k);
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const buf = new Float32Array(batch.length * size * size * 3);
    batch.forEach((img, i) => writeNormalized(img, norm, buf, i * size * size * 3));
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(buf, [batch.length, size, size, 3]);
      if (!tta) return net.logits(x, { training: false });
      return tf.div(tf.addN(dihedralViews(x).map((v) => net.logits(v, { training: false }))), 8);
    });
    out.set((await logits.data()) as Float32Array, start * k);
    logits.dispose();
  }
  return out;
}
