/** `evaluate(modelDir, data)`: calibrated metrics of a saved model on a dataset split. */
import path from 'node:path';
import type { EvalMetrics } from './artifact.js';
import { loadDataset, type Dataset, type Sample } from './data.js';
import { loadImages, logitsFor } from './inference.js';
import { computeMetrics, softmaxRows } from './metrics.js';
import { loadNetwork } from './artifact.js';
import { initBackend } from './backend.js';

export interface EvaluateOptions {
  /** Which split of a dataset (default 'val'). */
  split?: 'train' | 'val' | 'test';
  backend?: string;
  maxPerClass?: number;
  /** Test-time augmentation: mean logits over the eight dihedral views of each image (8x the compute). */
  tta?: boolean;
}

export type EvaluateData = string | Dataset | Sample[];

/**
 * `inSample`: the images are the training split of the data the model was trained on, or its
 * validation split, which chose its saved epoch and fitted its temperature: the figures flatter
 * it (a held-out test split does not). The same data is recognised by its content (snapshot id,
 * so a copied folder counts) or its place (a folder and its manifest.csv count as one).
 */
export async function evaluate(modelDir: string, data: EvaluateData, options: EvaluateOptions = {}): Promise<EvalMetrics & { split: string; labels: string[]; tta: boolean; inSample: boolean }> {
  await initBackend({ backend: options.backend });
  const { net, card } = await loadNetwork(modelDir);
  try {
    const split = options.split ?? 'val';
    let samples: Sample[];
    let inSample = false;
    if (Array.isArray(data)) samples = data;
    else {
      const ds = typeof data === 'string' ? await loadDataset(data, { maxPerClass: options.maxPerClass }) : data;
      samples = ds[split];
      const place = (source: string | undefined) => (source?.endsWith('.csv') ? path.dirname(source) : source);
      const sameData = ds.snapshotId === card.data.snapshotId || place(ds.source) === place(card.data.source);
      inSample = sameData && (split === 'val' || split === 'train');
    }
    const index = new Map(card.labels.map((l, i) => [l, i]));
    const unknown = [...new Set(samples.filter((s) => !index.has(s.label)).map((s) => s.label))];
    if (unknown.length) throw new Error(`Data has label(s) the model does not know: ${unknown.join(', ')} (model labels: ${card.labels.join(', ')})`);
    if (!samples.length) throw new Error(`No samples in split "${split}"`);
    const images = await loadImages(samples.map((s) => s.path), card.inputSize);
    const logits = await logitsFor(net, images, card.normalization, 64, { tta: options.tta });
    const probs = softmaxRows(logits, card.labels.length, card.calibration.temperature);
    const metrics = computeMetrics(probs, samples.map((s) => index.get(s.label)!), card.labels);
    return { ...metrics, split, labels: card.labels, tta: Boolean(options.tta), inSample };
  } finally {
    net.dispose();
  }
}
