/** Batched forward passes shared by training (validation), evaluation and prediction. */
import type { Network } from './architecture.js';
import type { Normalization } from './artifact.js';
import { writeNormalized } from './augment.js';
import { decodeImage, ImageDecodeError, resizeSquare, type ImageInput, type ImageLimits, type RgbImage } from './image.js';
import { tf } from './tf.js';

export interface LoadImagesOptions {
  /** Files decoded at once (default 4: sharp runs on libuv's 4 threads). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Keep going past files that cannot be decoded and report them together at the end (training:
   * one run lists every bad file of a data set instead of one per attempt). Default: stop at the
   * first failure, which is the whole answer for eval and predict.
   */
  collectFailures?: boolean;
  /** Stops decoding (each worker after the file it is on) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Several images of one batch could not be decoded: how many, and each one's error. */
export class UndecodableImagesError extends Error {
  constructor(
    readonly failures: ImageDecodeError[],
    readonly total: number,
  ) {
    const shown = failures.slice(0, 3).map((f) => f.message);
    const more = failures.length > shown.length ? `; and ${failures.length - shown.length} more` : '';
    super(`${failures.length} of ${total} images could not be decoded: ${shown.join('; ')}${more}`);
    this.name = 'UndecodableImagesError';
  }
}

/** Decodes and resizes images with bounded concurrency (sharp runs on libuv threads). */
export async function loadImages(inputs: ImageInput[], size: number, limits: ImageLimits = {}, options: LoadImagesOptions = {}): Promise<RgbImage[]> {
  const { concurrency = 4, onProgress, collectFailures = false, signal } = options;
  const out = new Array<RgbImage>(inputs.length);
  const failures: { index: number; error: ImageDecodeError }[] = [];
  let next = 0;
  let done = 0;
  // Set by the first worker that fails: Promise.all rejects at once, but the other workers would
  // otherwise go on decoding the rest of the list (thousands of files) for nothing.
  let stopped = false;
  const worker = async () => {
    while (!stopped && !signal?.aborted && next < inputs.length) {
      const i = next++;
      try {
        out[i] = await resizeSquare(await decodeImage(inputs[i]!, limits), size);
      } catch (e) {
        if (collectFailures && e instanceof ImageDecodeError) failures.push({ index: i, error: e });
        else {
          stopped = true;
          throw e;
        }
      }
      onProgress?.(++done, inputs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  signal?.throwIfAborted();
  // In list order, so the files named first are the same on every run.
  if (failures.length) throw new UndecodableImagesError(failures.sort((a, b) => a.index - b.index).map((f) => f.error), inputs.length);
  return out;
}

/**
 * The eight symmetries of an image (rotations by 90° and their mirror images: the
 * transposed or not, rows flipped or not, columns flipped or not). A cell on a smear has
 * no preferred orientation, and training augments with the same group, so these are
 * equally valid views of one image. Done on the 8-bit pixels: tfjs's cpu Reverse kernel
 * took ~0.4 s for a batch of 16 at 128 px.
 */
export function dihedralViews(img: RgbImage): RgbImage[] {
  const { width: w, height: h, data } = img;
  const views: RgbImage[] = [];
  for (const transpose of [false, true])
    for (const flipRows of [false, true])
      for (const flipCols of [false, true]) {
        const vw = transpose ? h : w, vh = transpose ? w : h;
        const out = new Uint8Array(data.length);
        for (let r = 0; r < vh; r++) {
          const rr = flipRows ? vh - 1 - r : r;
          for (let c = 0; c < vw; c++) {
            const cc = flipCols ? vw - 1 - c : c;
            const s = ((transpose ? cc : rr) * w + (transpose ? rr : cc)) * 3, d = (r * vw + c) * 3;
            out[d] = data[s]!;
            out[d + 1] = data[s + 1]!;
            out[d + 2] = data[s + 2]!;
          }
        }
        views.push({ width: vw, height: vh, data: out });
      }
  return views;
}

/**
 * Logits (rows of `numClasses`) for images already at the network's input size. With
 * `tta`, the mean logits over the eight dihedral views (test-time augmentation: 8x the
 * compute; the softmax of the mean logits is the views' normalised geometric mean).
 */
export async function logitsFor(
  net: Network,
  images: RgbImage[],
  norm: Normalization,
  batchSize = 32,
  { tta = false, onProgress }: { tta?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  // 0 or a negative size would never advance the loop below; NaN would skip it (logits all 0).
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
  const k = net.config.numClasses;
  const size = net.config.inputSize;
  const forward = async (batch: RgbImage[]): Promise<Float32Array> => {
    const buf = new Float32Array(batch.length * size * size * 3);
    batch.forEach((img, i) => writeNormalized(img, norm, buf, i * size * size * 3));
    const logits = tf.tidy(() => net.logits(tf.tensor4d(buf, [batch.length, size, size, 3]), { training: false }));
    const values = (await logits.data()) as Float32Array;
    logits.dispose();
    return values;
  };
  const out = new Float32Array(images.length * k);
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    if (!tta) {
      out.set(await forward(batch), start * k);
      onProgress?.(start + batch.length, images.length);
      continue;
    }
    const views = batch.map(dihedralViews);
    const mean = new Float32Array(batch.length * k);
    for (let v = 0; v < 8; v++) {
      const logits = await forward(views.map((vs) => vs[v]!));
      for (let i = 0; i < mean.length; i++) mean[i]! += logits[i]! / 8;
    }
    out.set(mean, start * k);
    onProgress?.(start + batch.length, images.length);
  }
  return out;
}
