/**
 * `evaluate(modelDir, data)`: calibrated metrics of a saved model on a dataset split, or of an
 * ensemble of saved models (`evaluate([dirA, dirB], data)`: the mean of their calibrated
 * probabilities).
 */
import path from 'node:path';
import { loadNetwork, readCard, runState, type EvalMetrics, type ModelCard } from './artifact.js';
import { capPerClass, loadDataset, type Dataset, type Sample } from './data.js';
import { loadImages, logitsFor } from './inference.js';
import type { RgbImage } from './image.js';
import { computeMetrics, softmaxRows } from './metrics.js';
import { initBackend } from './backend.js';
import { OptionError } from './options.js';

export interface EvaluateOptions {
  /**
   * Which split of a dataset, or 'all' of its images. Default: 'val' for data with splits of its
   * own; for data without (class folders with no train/val folders, a manifest without split
   * values: `Dataset.splitsAssigned`) 'all', except on the data a model was trained on, where the
   * hash-assigned 'val' part is the one its training held out. 'test' on such data is refused: it
   * has no test part.
   */
  split?: EvalSplit;
  backend?: string;
  maxPerClass?: number;
  /** Test-time augmentation: mean logits over the eight dihedral views of each image (8x the compute). */
  tta?: boolean;
  /**
   * Score only these labels of the data, as `train({ labels })` trained on them: a model trained on
   * some of a manifest's classes is scored on that manifest. Without it, data with a label the
   * model does not know is refused, so nobody scores on a silently filtered set.
   */
  labels?: string[];
  /** Images scored so far, over all members of an ensemble. */
  onProgress?: (done: number, total: number) => void;
  /** Images decoded so far (once per input size among the members): a large set takes minutes. */
  onDecode?: (done: number, total: number) => void;
}

type Progress = (done: number, total: number) => void;

export type EvalSplit = 'train' | 'val' | 'test' | 'all';

export interface EvaluateResult extends EvalMetrics {
  split: string;
  labels: string[];
  tta: boolean;
  inSample: boolean;
  members: string[];
  leftOut?: Record<string, number>;
  /** The data names no split of its own: its train/val parts were assigned by a hash (Dataset.splitsAssigned). */
  splitsAssigned?: boolean;
  /**
   * Members whose model is not a finished run's (a card saved during training, at the end of an
   * epoch: not calibrated, mid-schedule), each with what its card says; absent when all are finished.
   */
  unfinished?: { model: string; epochsRun: number | null; epochs: number | null; calibrated: boolean }[];
}

export type EvaluateData = string | Dataset | Sample[];

/** Labels shared by every member, in one order, so their probability columns can be averaged. */
async function memberCards(modelDirs: string[]): Promise<ModelCard[]> {
  if (!modelDirs.length) throw new Error('No model to evaluate');
  const cards = await Promise.all(modelDirs.map(readCard));
  const labels = cards[0]!.labels.join(', ');
  cards.forEach((c, i) => {
    if (c.labels.join(', ') !== labels) throw new Error(`${modelDirs[i]}: an ensemble needs one label list in one order; this model has ${c.labels.join(', ')}, ${modelDirs[0]} has ${labels}`);
  });
  return cards;
}

/**
 * The images at `card`'s input size, decoded once per size: members of one size share them.
 * Decoding reports progress across every size the ensemble needs.
 */
async function imagesFor(card: ModelCard, cards: ModelCard[], samples: Sample[], bySize: Map<number, RgbImage[]>, onDecode?: Progress): Promise<RgbImage[]> {
  const decoded = bySize.get(card.inputSize);
  if (decoded) return decoded;
  const total = new Set(cards.map((c) => c.inputSize)).size * samples.length;
  const before = bySize.size * samples.length;
  const progress = onDecode && ((done: number) => onDecode(before + done, total));
  // A report before the first image: the line shows at once, and its rate counts that image.
  progress?.(0);
  const images = await loadImages(samples.map((s) => s.path), card.inputSize, {}, { onProgress: progress });
  bySize.set(card.inputSize, images);
  return images;
}

/**
 * The mean over `modelDirs` of each model's calibrated probabilities (softmax at its own
 * temperature), one row of `labels.length` per sample. Members are loaded one at a time, so an
 * ensemble needs the memory of its largest member, not of all of them.
 */
export async function calibratedProbabilities(
  modelDirs: string[],
  samples: Sample[],
  { tta = false, onProgress, onDecode }: { tta?: boolean; onProgress?: Progress; onDecode?: Progress } = {},
): Promise<Float32Array> {
  const cards = await memberCards(modelDirs);
  const k = cards[0]!.labels.length;
  const mean = new Float32Array(samples.length * k);
  const imagesBySize = new Map<number, RgbImage[]>();
  const total = modelDirs.length * samples.length;
  for (const [m, dir] of modelDirs.entries()) {
    const { net, card } = await loadNetwork(dir);
    try {
      const images = await imagesFor(card, cards, samples, imagesBySize, onDecode);
      const progress = onProgress && ((done: number) => onProgress(m * samples.length + done, total));
      progress?.(0);
      const probs = softmaxRows(await logitsFor(net, images, card.normalization, 64, { tta, onProgress: progress }), k, card.calibration.temperature);
      for (let i = 0; i < mean.length; i++) mean[i]! += probs[i]! / modelDirs.length;
    } finally {
      net.dispose();
    }
  }
  return mean;
}

/**
 * `inSample`: the images are the training split of the data a model (any member of an ensemble)
 * was trained on, or its validation split, which chose its saved epoch and fitted its temperature:
 * the figures flatter it (a held-out test split does not). The same data is recognised by its
 * content (snapshot id, so a copied folder counts) or its place (a folder and its manifest.csv
 * count as one).
 */
export async function evaluate(
  model: string | string[],
  data: EvaluateData,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const members = typeof model === 'string' ? [model] : model;
  const cards = await memberCards(members);
  await initBackend({ backend: options.backend });
  if (options.split !== undefined && !['train', 'val', 'test', 'all'].includes(options.split)) throw new OptionError(`split must be train, val, test or all, got ${String(options.split)}`);
  let split: EvalSplit = options.split ?? 'val';
  let samples: Sample[];
  let inSample = false;
  let leftOut: Record<string, number> | undefined;
  let splitsAssigned = false;
  if (Array.isArray(data)) samples = data;
  else {
    // Filtered as train() filters: the same labels give the same snapshot id, so a model trained
    // with `labels` is still recognised as scored on its own data (inSample).
    const load = (maxPerClass: number | undefined) => loadDataset(data as string, { labels: options.labels, maxPerClass });
    let ds = typeof data === 'string' ? await load(options.maxPerClass) : data;
    const place = (source: string | undefined) => (source?.endsWith('.csv') ? path.dirname(source) : source);
    const sameData = cards.some((card) => ds.snapshotId === card.data.snapshotId || place(ds.source) === place(card.data.source));
    splitsAssigned = ds.splitsAssigned === true;
    if (splitsAssigned) {
      // Parts a hash made up are not a split of the data: another labelled set is scored whole.
      // On the model's own data the hash's val part is what its training held out, and stays the default.
      if (options.split === undefined) split = sameData ? 'val' : 'all';
      if (split === 'test') throw new OptionError(`split "test": ${ds.source} has no split of its own, so no test part (a hash of each name put it in train or val): score all of its images with split "all"`);
    }
    if (split === 'all') {
      // Capped over the whole set, not per part (a part may hold an image twice: once in train, once in val).
      if (options.maxPerClass && typeof data === 'string') ds = await load(undefined);
      const seen = new Set<string>();
      samples = [...ds.train, ...ds.val, ...ds.test].filter((s) => !seen.has(s.path) && seen.add(s.path));
      if (options.maxPerClass) samples = capPerClass(samples, options.maxPerClass, place(ds.source)!);
      if (ds.leftOut) {
        const sum: Record<string, number> = {};
        for (const part of Object.values(ds.leftOut)) for (const [l, n] of Object.entries(part)) sum[l] = Math.min((sum[l] ?? 0) + n, options.maxPerClass || Infinity);
        leftOut = sum;
      }
    } else {
      samples = ds[split];
      leftOut = ds.leftOut?.[split];
    }
    inSample = sameData && (split === 'val' || split === 'train' || (split === 'all' && ds.train.length > 0));
  }
  const labels = cards[0]!.labels;
  const index = new Map(labels.map((l, i) => [l, i]));
  const unknown = [...new Set(samples.filter((s) => !index.has(s.label)).map((s) => s.label))];
  if (unknown.length) {
    const known = labels.filter((l) => samples.some((s) => s.label === l));
    throw new Error(`Data has label(s) the model does not know: ${unknown.join(', ')} (model labels: ${labels.join(', ')}; score on the model's labels alone with --labels ${known.join(',')})`);
  }
  if (!samples.length) throw new Error(`No samples in split "${split}"`);
  const probs = await calibratedProbabilities(members, samples, { tta: options.tta, onProgress: options.onProgress, onDecode: options.onDecode });
  const metrics = computeMetrics(probs, samples.map((s) => index.get(s.label)!), labels);
  const unfinished = members.flatMap((m, i) => {
    const state = runState(cards[i]!);
    return state.finished ? [] : [{ model: m, epochsRun: state.epochsRun, epochs: state.epochs, calibrated: state.calibrated }];
  });
  return { ...metrics, split, labels, tta: Boolean(options.tta), inSample, members, ...(leftOut ? { leftOut } : {}), ...(splitsAssigned ? { splitsAssigned } : {}), ...(unfinished.length ? { unfinished } : {}) };
}
