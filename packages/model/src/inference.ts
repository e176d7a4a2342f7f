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

/** Logits (rows of `numClasses`) for images already at the network's input size. */
export async function logitsFor(net: Network, images: RgbImage[], norm: Normalization, batchSize = 32): Promise<Float32Array> {
  const k = net.config.numClasses;
  const size = net.config.inputSize;
  const out = new Float32Array(images.length * k);
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const buf = new Float32Array(batch.length * size * size * 3);
    batch.forEach((img, i) => writeNormalized(img, norm, buf, i * size * size * 3));
    const logits = tf.tidy(() => net.logits(tf.tensor4d(buf, [batch.length, size, size, 3]), { training: false }));
    out.set((await logits.data()) as Float32Array, start * k);
    logits.dispose();
  }
  return out;
}
