/**
 * Training: fresh or transfer learning, with checkpoint/resume and cancellation.
 *
 * Schedule per phase: linear warm-up then cosine decay. Transfer learning (`from`)
 * replaces the head, trains it with the backbone frozen (BatchNorm in inference mode),
 * then unfreezes everything at a lower learning rate, as the paper did for CAR-T images.
 * Every epoch: validation, a line in metrics.jsonl, a checkpoint (weights + optimizer +
 * state) and, when validation improves, the best model in `out`. Afterwards a temperature
 * is fitted on validation logits and the card gets calibrated validation metrics.
 * With `ema`, an exponential moving average of the weights is kept alongside (weightAverage.ts)
 * and it is the average that is validated, selected and saved.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { mkdir, readFile, rm, writeFile, appendFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { Network, archConfig, widthProblem, type ArchName } from './architecture.js';
import { loadNetwork, readCard, saveModel, type EvalMetrics, type ModelCard, type Normalization } from './artifact.js';
import { DEFAULT_AUGMENT, estimateNormalization, writeAugmented, writeNormalized, type AugmentOptions } from './augment.js';
import { currentBackend, initBackend } from './backend.js';
import { loadDataset, type Dataset } from './data.js';
import { loadImages, logitsFor } from './inference.js';
import { calibrationFor, computeMetrics, softmaxRows, type TemperatureFit } from './metrics.js';
import { Optimizer, type OptimizerKind, type OptimizerState } from './optimizer.js';
import { OptionError, checkAbstainThreshold } from './options.js';
import { confusionSvg, trainingCurveSvg } from './plots.js';
import { Rng, deriveSeed } from './rng.js';
import { tf } from './tf.js';
import { WeightAverage } from './weightAverage.js';

export interface TrainOptions {
  /** Dataset directory or manifest (see data.ts), or a loaded Dataset. */
  data: string | Dataset;
  out: string;
  arch?: ArchName;
  size?: number;
  epochs?: number;
  batchSize?: number;
  widthMultiplier?: number;
  stem?: 'imagenet' | 'compact';
  optimizer?: OptimizerKind;
  lr?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  labelSmoothing?: number;
  /** Sample classes uniformly (default true): rare classes are seen as often as common ones. */
  balance?: boolean;
  augment?: boolean | AugmentOptions;
  /** Stop after this many epochs without validation improvement (default: never). */
  patience?: number;
  seed?: number;
  resume?: boolean;
  /** Transfer learning: start from this model directory. */
  from?: string;
  /** Label set (defaults to all labels in the data; with `from`, the new head's labels). */
  labels?: string[];
  /** Transfer learning: epochs with the backbone frozen (default min(3, epochs/3)). */
  headEpochs?: number;
  /** Transfer learning: learning-rate factor after unfreezing (default 0.1). */
  unfreezeLrFactor?: number;
  maxPerClass?: number;
  signal?: AbortSignal;
  /**
   * What an abort leaves behind. true (default, the CLI's Ctrl-C): the epoch under way is dropped
   * and the best model so far is saved, calibrated, as a cancelled run's. false (the platform's
   * worker): nothing more is written once the signal fires, not the epoch's checkpoint, metrics
   * line or model, and train() rejects with TrainingCancelled. A worker that lost its lease is
   * aborted one heartbeat before another worker may take the run over and resume it in `out`.
   */
  persistOnAbort?: boolean;
  backend?: string;
  name?: string;
  abstainThreshold?: number;
  /**
   * Decay of an exponential moving average of the weights, updated after every step (e.g.
   * 0.999: a horizon of ~1,000 steps). The average is validated, selected and saved; the
   * online weights' validation figures are recorded beside it. Default: no average.
   */
  ema?: number;
  /**
   * How the training images were framed: side = this x the cell box when cut by cropCells
   * (CROP_CONTEXT for the platform's snapshots). Default null: images used as given, e.g. a
   * pre-cropped public dataset. Recorded in the card so a reader knows what the model saw.
   */
  cropContext?: number | null;
}

export type TrainEvent =
  | { type: 'decode'; done: number; total: number }
  | { type: 'start'; backend: string; arch: ArchName; labels: string[]; train: number; val: number; epochs: number; startEpoch: number; parameterCount: number }
  | { type: 'step'; epoch: number; epochs: number; step: number; steps: number; loss: number; acc: number; lr: number; imgPerSec: number; etaSeconds: number }
  | ({ type: 'epoch'; epochs: number; best: boolean } & EpochRecord)
  | { type: 'done'; modelDir: string; epochsRun: number; stoppedEarly: boolean; cancelled: boolean };

export interface EpochRecord {
  epoch: number;
  phase: 'head' | 'full';
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  valBalancedAcc: number;
  lr: number;
  seconds: number;
  imgPerSec: number;
  /** With `ema`: the online (not averaged) weights' validation figures; val* are the average's. */
  onlineValAcc?: number;
  onlineValBalancedAcc?: number;
}

export interface TrainResult {
  modelDir: string;
  metrics: EvalMetrics | null;
  history: EpochRecord[];
  backend: string;
  card: ModelCard;
  cancelled: boolean;
}

interface CheckpointState {
  epoch: number;
  history: EpochRecord[];
  bestScore: number;
  bestEpoch: number;
  sinceBest: number;
  phase: 'head' | 'full';
  /** Updates the weight average had taken (it is saved in the checkpoint's `ema/`). */
  emaUpdates?: number;
  /** Patience ran out: a resumed run has nothing left to train. */
  stoppedEarly?: boolean;
}

/** Each option's `rcmnet train` flag, for refusals: a CLI user never sees the option keys. */
const FLAGS: Partial<Record<keyof TrainOptions, string>> = {
  epochs: 'epochs', batchSize: 'batch', size: 'size', patience: 'patience', headEpochs: 'head-epochs', maxPerClass: 'max-per-class', seed: 'seed',
  lr: 'lr', weightDecay: 'weight-decay', labelSmoothing: 'label-smoothing', widthMultiplier: 'width', stem: 'stem',
};

/** `--batch (batchSize)`: the flag for CLI users, the key for library callers such as the API. */
function optionName(key: keyof TrainOptions): string {
  const flag = FLAGS[key];
  return flag === undefined ? key : flag === key ? `--${flag}` : `--${flag} (${key})`;
}

/**
 * Refuses options that would train nonsense and still "succeed" (zero steps, no epochs, negative
 * targets) or be silently ignored: train() is a library entry point as well as the CLI's.
 */
export function checkTrainOptions(o: TrainOptions): void {
  const bad = (key: keyof TrainOptions, want: string, got: unknown) => new OptionError(`${optionName(key)} must be ${want}, got ${String(got)}`);
  const int = (key: keyof TrainOptions, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw bad(key, `an integer >= ${min}`, v);
  };
  int('epochs', o.epochs, 1);
  int('batchSize', o.batchSize, 1);
  int('size', o.size, 16);
  int('patience', o.patience, 1);
  int('headEpochs', o.headEpochs, 0);
  int('maxPerClass', o.maxPerClass, 1);
  // Only transfer learning has a frozen-backbone phase: without `from` the count changed nothing.
  if (o.headEpochs !== undefined && !o.from) throw new OptionError(`${optionName('headEpochs')} applies to transfer learning only: give --from MODEL too, or leave it out`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
  if (o.lr !== undefined && !(o.lr > 0 && Number.isFinite(o.lr))) throw bad('lr', 'a positive number', o.lr);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) throw bad('weightDecay', 'a number >= 0', o.weightDecay);
  if (o.labelSmoothing !== undefined && !(o.labelSmoothing >= 0 && o.labelSmoothing < 1)) throw bad('labelSmoothing', 'in [0, 1)', o.labelSmoothing);
  if (o.widthMultiplier !== undefined && !(o.widthMultiplier > 0 && o.widthMultiplier <= 4)) throw bad('widthMultiplier', 'in (0, 4]', o.widthMultiplier);
  // A width the attention heads cannot split failed only when the network was built, after the
  // data was read and --out created. With `from` the network is the base model's.
  const widthRefused = o.from ? null : widthProblem(o.arch ?? 'rcmnet', o.widthMultiplier);
  if (widthRefused) throw new OptionError(`${optionName('widthMultiplier')} ${widthRefused}`);
  if (o.stem !== undefined && o.stem !== 'imagenet' && o.stem !== 'compact') throw bad('stem', 'imagenet or compact', o.stem);
  if (o.abstainThreshold !== undefined && !(o.abstainThreshold >= 0 && o.abstainThreshold <= 1)) throw bad('abstainThreshold', 'in [0, 1]', o.abstainThreshold);
}

/** Memory the OOM killer enforces: a container's limit where there is one, else the machine's. */
function machineMemory(): number {
  const limit = process.constrainedMemory?.();
  return limit && limit < os.totalmem() ? limit : os.totalmem();
}

/**
 * Refuses, before any image is decoded, a run whose decoded images would not fit: all are held for
 * the whole run as 8-bit RGB (size² × 3 bytes each), and at --size 1024 the 13,599 PBC images are
 * 43 GB, which got the process killed minutes into decoding. Half the memory at most: the network,
 * its gradients, the optimizer's moments and a batch's activations need the rest.
 */
export function checkDecodedFits(images: number, size: number, what = `--size ${size}`, memory = machineMemory()): void {
  const bytes = images * size * size * 3;
  if (bytes <= memory / 2) return;
  const gb = (b: number) => (b / 1e9).toFixed(1);
  throw new OptionError(`${what} needs ${gb(bytes)} GB to hold ${images} decoded images, over half of this machine's ${gb(memory)} GB: train at a smaller --size, or on fewer images (--max-per-class)`);
}

/**
 * Options that fix what a run is: a resumed run must use the checkpoint's, or it is another run.
 * `patience` too: it decides the epoch a run ends at, so with another a resumed run would end
 * where the uninterrupted run would not (and one that already stopped early would stay stopped).
 * Not `from`, a path: the base model is compared by its weights (resumedRunDiffers).
 */
const RECIPE_KEYS = ['epochs', 'batchSize', 'optimizer', 'lr', 'weightDecay', 'warmupEpochs', 'labelSmoothing', 'balance', 'seed', 'headEpochs', 'ema', 'augment', 'unfreezeLrFactor', 'patience'] as const;

/** A run's base model as a refusal names it: its card's name and the start of its weights hash. */
function baseText(parent: ModelCard['parent']): string {
  return parent ? `base ${parent.name} (weights ${parent.weightsSha256.slice(0, 12)})` : 'no base (trained from scratch)';
}

/**
 * What makes a checkpoint another run's, checked before any image is decoded: the classes and
 * their order (weights resumed under other labels would be saved with their names swapped), the
 * network (architecture, input size, widths), the data (its snapshot id) and the base model of
 * transfer learning, by its weights hash, not by the --from path: another model put at the same
 * path would be recorded as the run's parent (a false lineage), while `./base` and `base` are one
 * model. With no checkpoint, the model in `out` is compared instead: the platform deletes the
 * checkpoints of settled runs, and a "fresh start" would train another run over that model. Null:
 * the same run, or neither.
 */
async function resumedRunDiffers(ckptDir: string, now: { labels: string[]; config: unknown; snapshotId: string; parent: ModelCard['parent'] }): Promise<string | null> {
  const out = path.dirname(ckptDir);
  const dir = [ckptDir, `${ckptDir}.old`].find((d) => existsSync(path.join(d, 'state.json'))) ?? (existsSync(path.join(out, 'model-card.json')) ? out : undefined);
  if (!dir) return null;
  const where = dir === out ? 'the model in --out' : 'the checkpoint';
  const card = await readCard(dir);
  const differences: string[] = [];
  if (card.labels.join('\n') !== now.labels.join('\n')) differences.push(`labels ${card.labels.join(',')} in ${where}, ${now.labels.join(',')} now`);
  if (JSON.stringify(card.config) !== JSON.stringify(now.config)) differences.push(`network ${JSON.stringify(card.config)} in ${where}, ${JSON.stringify(now.config)} now`);
  if (card.parent?.weightsSha256 !== now.parent?.weightsSha256) differences.push(`${baseText(card.parent)} in ${where}, ${baseText(now.parent)} now`);
  if (card.data?.snapshotId && card.data.snapshotId !== now.snapshotId) differences.push(`data snapshot ${card.data.snapshotId} in ${where}, ${now.snapshotId} now (other images or labels; or one from before 2026-11-27, when a dataset named by its manifest file or capped by --max-per-class got an id of its own)`);
  return differences.length ? differences.join('; ') : null;
}

/**
 * Creates `out` and writes a file there, before any image is decoded: an --out on a read-only
 * volume or without permission would otherwise fail at the first save, after a whole epoch.
 */
async function ensureWritable(out: string): Promise<void> {
  const probe = path.join(out, `.write-check-${process.pid}`);
  try {
    await mkdir(out, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new Error(`cannot write the model to ${out} (${(e as Error).message}): train into a writable folder`);
  }
}

export class TrainingCancelled extends Error {
  constructor() {
    super('Training cancelled');
    this.name = 'TrainingCancelled';
  }
}

function lrAt(base: number, step: number, total: number, warmup: number): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, total - warmup);
  return base * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}

function smoothedLoss(logits: tf.Tensor2D, targets: tf.Tensor2D, smoothing: number): tf.Scalar {
  const k = logits.shape[1];
  const soft = smoothing > 0 ? tf.add(tf.mul(targets, 1 - smoothing), smoothing / k) : targets;
  return tf.neg(tf.mean(tf.sum(tf.mul(soft, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

export async function train(options: TrainOptions, onProgress: (e: TrainEvent) => void = () => {}): Promise<TrainResult> {
  checkTrainOptions(options);
  const backend = await initBackend({ backend: options.backend });
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 32;
  if (options.ema !== undefined) WeightAverage.checkDecay(options.ema);
  const cropContext = options.cropContext ?? null;
  if (cropContext !== null && !(Number.isFinite(cropContext) && cropContext >= 1)) {
    throw new Error(`cropContext must be a number >= 1 (crop side / cell box side) or null, got ${cropContext}`);
  }
  const out = path.resolve(options.out);
  const ckptDir = path.join(out, 'checkpoint');
  const persistOnAbort = options.persistOnAbort ?? true;
  /** Called before each write of the training loop: without persistOnAbort, an abort writes nothing more. */
  const stopIfAborted = () => {
    if (!persistOnAbort && options.signal?.aborted) throw new TrainingCancelled();
  };

  // ---- data and classes (checked before the network exists: nothing to free on refusal) --
  const dataset: Dataset = typeof options.data === 'string' ? await loadDataset(options.data, { labels: options.labels, maxPerClass: options.maxPerClass }) : options.data;
  const labels = options.labels ?? dataset.labels;
  // One class gives a zero loss (nothing to learn) and a card that cannot load; a name twice
  // gives an output that is never a target.
  if (labels.length < 2) throw new Error(`training needs at least two classes, got ${labels.length ? labels.join(', ') : 'none'}`);
  abstainThresholdFor(labels.length, options.abstainThreshold, undefined); // a threshold that never abstains is refused before any work
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice !== undefined) throw new Error(`the class ${twice} is listed twice`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const trainSamples = dataset.train.filter((s) => labelIndex.has(s.label));
  const valSamples = dataset.val.filter((s) => labelIndex.has(s.label));
  if (!trainSamples.length) throw new Error('No training samples for the requested labels');
  // A class seen only in val or test would get an output the network never learned: a random
  // score that can still win a prediction.
  const untrained = labels.filter((l) => !trainSamples.some((s) => s.label === l));
  if (untrained.length) throw new Error(`no training images of ${untrained.join(', ')} (only in val or test): add some, or leave the class out with --labels`);
  // Created only once the data is known to be there (a mistyped --data leaves no empty --out).
  await ensureWritable(out);

  // ---- model -------------------------------------------------------------------
  let net: Network;
  let parent: ModelCard | undefined;
  let normalization: Normalization | undefined;
  if (options.from) {
    const loaded = await loadNetwork(options.from);
    net = loaded.net;
    parent = loaded.card;
    normalization = parent.normalization;
    if (labels.join('\n') !== parent.labels.join('\n')) net.replaceHead(labels.length, seed);
  } else {
    net = new Network(
      archConfig(options.arch ?? 'rcmnet', {
        inputSize: options.size ?? 64,
        numClasses: labels.length,
        widthMultiplier: options.widthMultiplier,
        stem: options.stem,
        seed,
      }),
    );
  }
  const size = net.config.inputSize;
  if (options.size && options.from && options.size !== size) {
    process.stderr.write(`rcmnet: --size ${options.size} ignored; ${options.from} was trained at ${size} px\n`);
  }
  try {
    checkDecodedFits(trainSamples.length + valSamples.length, size, options.from ? `${options.from}'s input size ${size} px` : `--size ${size}`);
  } catch (e) {
    net.dispose();
    throw e;
  }

  if (options.resume) {
    const problem = await resumedRunDiffers(ckptDir, { labels, config: net.config, snapshotId: dataset.snapshotId, parent }).catch((e: unknown) => {
      net.dispose();
      throw e;
    });
    if (problem) {
      net.dispose();
      throw new Error(`--resume of another run (${problem}): resume with that run's base model, data, labels and architecture, or train into a new --out`);
    }
  }

  // ---- schedule ------------------------------------------------------------------
  const transfer = Boolean(options.from);
  const headEpochs = transfer ? Math.min(epochs, options.headEpochs ?? Math.max(1, Math.min(3, Math.floor(epochs / 3)))) : 0;
  const baseLr = options.lr ?? ((options.optimizer ?? 'adam') === 'adam' ? 2e-3 : 0.05);
  const phaseOf = (epoch: number): 'head' | 'full' => (epoch < headEpochs ? 'head' : 'full');
  // Whole batches only: a last batch of a few images would put their batch statistics into the
  // running ones just before validation (11,846 PBC images end every epoch with a batch of 6).
  const stepsPerEpoch = Math.max(1, Math.floor(trainSamples.length / batchSize));
  const augment = options.augment === false ? null : options.augment === true || options.augment === undefined ? {} : options.augment;
  const smoothing = options.labelSmoothing ?? 0.1;
  const warmupEpochs = options.warmupEpochs ?? (transfer ? 0 : Math.min(1, epochs / 5));

  const makeOptimizer = () => new Optimizer({ kind: options.optimizer ?? 'adam', weightDecay: options.weightDecay ?? 1e-4 });
  let optimizer = makeOptimizer();
  let state: CheckpointState = { epoch: -1, history: [], bestScore: -Infinity, bestEpoch: -1, sinceBest: 0, phase: phaseOf(0) };
  let resumedAverage: Network | undefined;
  let resumed: ModelCard | undefined;
  /** With --resume and no checkpoint: the card of the model in `out`, if there is one. */
  let leftModel: ModelCard | undefined;
  /** What a refusal before training frees: a worker retries a failed run in the same process. */
  const disposeSetup = () => {
    net.dispose();
    optimizer.dispose();
    resumedAverage?.dispose();
  };

  if (options.resume) {
    // A kill between the two renames of writeCheckpoint leaves only `checkpoint.old`.
    if (!existsSync(path.join(ckptDir, 'state.json')) && existsSync(path.join(`${ckptDir}.old`, 'state.json'))) {
      await rename(`${ckptDir}.old`, ckptDir);
    }
    // No state.json: no checkpoint (state.json is written last). With it, every other part must
    // load, or the checkpoint is damaged: starting over silently would mix its state with a fresh
    // optimizer and weights.
    if (!existsSync(path.join(ckptDir, 'state.json'))) {
      // Decided once the recipe is compared too (below): nothing is deleted before that.
      if (existsSync(path.join(out, 'model-card.json'))) {
        leftModel = await readCard(out).catch((e: unknown) => {
          disposeSetup();
          throw e;
        });
      }
    } else {
      try {
        state = JSON.parse(await readFile(path.join(ckptDir, 'state.json'), 'utf8')) as CheckpointState;
        const ck = await loadNetwork(ckptDir);
        for (const e of ck.net.params.all()) tf.tidy(() => net.params.get(e.key).assign(e.variable));
        ck.net.dispose();
        const meta = JSON.parse(await readFile(path.join(ckptDir, 'optimizer.json'), 'utf8')) as OptimizerState;
        optimizer.load(meta, await readFile(path.join(ckptDir, 'optimizer.bin')));
        normalization = ck.card.normalization;
        resumed = ck.card;
        if (options.ema !== undefined && existsSync(path.join(ckptDir, 'ema', 'weights.bin'))) {
          resumedAverage = (await loadNetwork(path.join(ckptDir, 'ema'))).net;
        }
        // A kill between the metrics line and the checkpoint leaves a line for an epoch that is
        // trained again now: keep one line per epoch the checkpoint holds.
        const metricsPath = path.join(out, 'metrics.jsonl');
        const lines = existsSync(metricsPath) ? (await readFile(metricsPath, 'utf8')).split('\n').filter(Boolean) : [];
        const byEpoch = new Map<number, string>();
        for (const line of lines) {
          let epochOf: unknown;
          try {
            epochOf = (JSON.parse(line) as { epoch?: unknown }).epoch;
          } catch {
            continue; // a line cut short by a kill or a full disk: its epoch is trained again
          }
          if (typeof epochOf === 'number' && epochOf <= state.epoch + 1) byEpoch.set(epochOf, line);
        }
        await writeFile(metricsPath, [...byEpoch.values()].map((l) => `${l}\n`).join(''));
        process.stderr.write(`rcmnet: resuming ${out} after epoch ${state.epoch + 1}\n`);
      } catch (e) {
        disposeSetup();
        throw new Error(`checkpoint damaged in ${ckptDir} (${(e as Error).message}): train into a new --out, or remove the checkpoint folder to start this run over`);
      }
    }
  }

  const trainingOptions = {
    epochs,
    batchSize,
    optimizer: options.optimizer ?? 'adam',
    lr: baseLr,
    weightDecay: options.weightDecay ?? 1e-4,
    warmupEpochs,
    labelSmoothing: smoothing,
    balance: options.balance ?? true,
    // Resolved, so the card says what ran even after a default changes.
    augment: augment ? { ...DEFAULT_AUGMENT, ...augment } : false,
    patience: options.patience ?? null,
    seed,
    from: options.from ?? null,
    headEpochs,
    unfreezeLrFactor: options.unfreezeLrFactor ?? 0.1,
    ema: options.ema ?? null,
  };
  // The checkpoint's recipe (or the model's in `out`, when there is no checkpoint), like its state,
  // is checked before any image is decoded: a refusal after decoding a large set costs a minute or
  // more for nothing.
  const resumedRecipe = (resumed ?? leftModel)?.training;
  if (resumedRecipe) {
    const where = resumed ? 'the checkpoint' : 'the model in --out';
    const changed = RECIPE_KEYS.filter((k) => k in resumedRecipe && JSON.stringify(resumedRecipe[k]) !== JSON.stringify(trainingOptions[k]));
    if (changed.length) {
      disposeSetup();
      throw new Error(
        `--resume with a different recipe (${changed.map((k) => `${k}: ${JSON.stringify(resumedRecipe[k])} in ${where}, ${JSON.stringify(trainingOptions[k])} now`).join('; ')}): resume with that run's options, or train into a new --out`,
      );
    }
  }
  if (options.resume && !resumed) await startOver(leftModel, epochs, out, disposeSetup);

  // Decode everything once: epochs then cost only augmentation and compute.
  // Decoding a large set takes a minute or more: it reports progress like training does.
  // One pass over train and val, reporting every file that cannot be decoded (count and the
  // first few) rather than one per attempt.
  let trainImages: Awaited<ReturnType<typeof loadImages>>;
  let valImages: Awaited<ReturnType<typeof loadImages>>;
  try {
    const images = await loadImages([...trainSamples, ...valSamples].map((s) => s.path), size, {}, {
      collectFailures: true,
      onProgress: (done, total) => onProgress({ type: 'decode', done, total }),
      // Decoding a large set takes minutes: a cancel stops it, not only the training steps.
      ...(options.signal ? { signal: options.signal } : {}),
    });
    trainImages = images.slice(0, trainSamples.length);
    valImages = images.slice(trainSamples.length);
  } catch (e) {
    disposeSetup();
    throw options.signal?.aborted ? new TrainingCancelled() : e;
  }
  const trainTargets = trainSamples.map((s) => labelIndex.get(s.label)!);
  const valTargets = valSamples.map((s) => labelIndex.get(s.label)!);
  normalization ??= estimateNormalization(trainImages);

  if (!options.resume) {
    await rm(ckptDir, { recursive: true, force: true });
    await rm(path.join(out, 'metrics.jsonl'), { force: true });
  }
  const norm = normalization;
  const average = options.ema === undefined ? null : new WeightAverage(net, options.ema, resumedAverage ? (state.emaUpdates ?? 0) : 0);
  if (average && resumedAverage) average.copyFrom(resumedAverage);
  resumedAverage?.dispose();

  // Validation images that are also training images (a snapshot too small for a VAL part): the
  // best epoch is then chosen in-sample, and a temperature fitted there would sharpen every
  // probability, so none is fitted.
  const trainPaths = new Set(trainSamples.map((s) => s.path));
  const valIsTrain = valSamples.some((s) => trainPaths.has(s.path));
  if (valIsTrain) process.stderr.write('rcmnet: validation images are also training images: model selection is optimistic and no temperature is fitted\n');
  // Captured now: the training network is disposed before the final card is written.
  const parameterCount = net.params.countLearnable();
  // `complete`: only the final save of a run that was not cancelled says true. The model saved at
  // the end of an epoch (and the checkpoint's) is mid-schedule and not calibrated: predict, eval
  // and explain warn about such a model (runState in artifact.ts).
  const cardBase = (metrics: EvalMetrics | null, temperature: number, fitted: boolean, extra: Partial<ModelCard['calibration']> = {}, complete = false) => ({
    name: options.name ?? path.basename(out),
    architecture: net.config.arch,
    config: net.config,
    labels,
    inputSize: size,
    normalization: norm,
    cropContext,
    backend,
    parameterCount,
    data: { source: dataset.source, snapshotId: dataset.snapshotId, trainCount: trainImages.length, valCount: valImages.length },
    training: { ...trainingOptions, bestEpoch: state.bestEpoch + 1, epochsRun: state.epoch + 1, complete },
    metrics,
    calibration: { temperature, fittedOn: fitted ? ('val' as const) : ('none' as const), ...extra },
    abstainThreshold: abstainThresholdFor(labels.length, options.abstainThreshold, parent?.abstainThreshold),
    parent: parent ? { name: parent.name, weightsSha256: parent.weightsSha256, labels: parent.labels } : undefined,
    createdAt: new Date().toISOString(),
  });

  onProgress({
    type: 'start',
    backend,
    arch: net.config.arch,
    labels,
    train: trainImages.length,
    val: valImages.length,
    epochs,
    startEpoch: state.epoch + 1,
    parameterCount: net.params.countLearnable(),
  });

  const byClass = labels.map((_, c) => trainTargets.flatMap((t, i) => (t === c ? [i] : [])));
  const nonEmpty = byClass.filter((ix) => ix.length);
  let cancelled = false;
  let stoppedEarly = state.stoppedEarly === true;
  const imgElems = size * size * 3;

  try {
    for (let epoch = state.epoch + 1; epoch < epochs && !stoppedEarly; epoch++) {
      const phase = phaseOf(epoch);
      if (phase !== state.phase) {
        // New parameter set and learning rate: fresh optimizer state.
        optimizer.dispose();
        optimizer = makeOptimizer();
        // Patience counts epochs of the full phase only: the frozen head epochs say nothing
        // about whether fine-tuning the backbone still improves the model.
        if (state.phase === 'head') state.sinceBest = 0;
        state.phase = phase;
      }
      if (phase === 'head') net.params.freezeAllBut([net.headPrefix]);
      else net.params.unfreeze();
      const vars = net.params.trainable();
      const nameToKey = new Map([...vars].map(([k, v]) => [v.name, k]));
      const phaseStart = phase === 'head' ? 0 : headEpochs;
      const phaseEpochs = phase === 'head' ? headEpochs : epochs - headEpochs;
      const phaseLr = phase === 'full' && transfer ? baseLr * trainingOptions.unfreezeLrFactor : baseLr;

      const rng = new Rng(deriveSeed(seed, 'epoch', epoch));
      const order = trainingOptions.balance
        ? Array.from({ length: trainImages.length }, () => rng.pick(rng.pick(nonEmpty)))
        : rng.shuffle(trainImages.map((_, i) => i));
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lr = phaseLr;
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (options.signal?.aborted) throw new TrainingCancelled();
        const idx = order.slice(step * batchSize, (step + 1) * batchSize);
        if (!idx.length) break;
        const buf = new Float32Array(idx.length * imgElems);
        idx.forEach((ix, i) => {
          if (augment) writeAugmented(trainImages[ix]!, norm, buf, i * imgElems, rng, augment);
          else writeNormalized(trainImages[ix]!, norm, buf, i * imgElems);
        });
        const targets = idx.map((ix) => trainTargets[ix]!);
        const globalStep = (epoch - phaseStart) * stepsPerEpoch + step;
        lr = lrAt(phaseLr, globalStep, phaseEpochs * stepsPerEpoch, Math.round(warmupEpochs * stepsPerEpoch));
        const ctx = { training: phase === 'full', bnUpdates: [] as { variable: tf.Variable; value: tf.Tensor }[] };
        let preds: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const x = tf.tensor4d(buf, [idx.length, size, size, 3]);
          const y = tf.oneHot(tf.tensor1d(targets, 'int32'), labels.length) as tf.Tensor2D;
          const logits = net.logits(x, ctx);
          preds = tf.keep(tf.argMax(logits, 1));
          return smoothedLoss(logits, y, smoothing);
        }, [...vars.values()]);
        const keyed = new Map(Object.entries(grads).map(([name, g]) => [nameToKey.get(name)!, g]));
        optimizer.apply(keyed, vars, lr);
        for (const u of ctx.bnUpdates) {
          u.variable.assign(u.value);
          u.value.dispose();
        }
        average?.update(net);
        const loss = (await value.data())[0]!;
        const p = (await preds!.data()) as Int32Array;
        tf.dispose([value, preds!, ...Object.values(grads)]);
        if (!Number.isFinite(loss)) throw new Error(`Loss became ${loss} at epoch ${epoch + 1} step ${step + 1}; lower --lr`);
        lossSum += loss * idx.length;
        seen += idx.length;
        targets.forEach((t, i) => (correct += p[i] === t ? 1 : 0));
        const elapsed = (performance.now() - t0) / 1000;
        const imgPerSec = seen / elapsed;
        const remaining = (epochs - epoch - 1) * trainImages.length + (trainImages.length - seen);
        onProgress({ type: 'step', epoch: epoch + 1, epochs, step: step + 1, steps: stepsPerEpoch, loss, acc: correct / seen, lr, imgPerSec, etaSeconds: remaining / imgPerSec });
      }
      const seconds = (performance.now() - t0) / 1000;

      // ---- validation, records, checkpoint -------------------------------------------
      // With an average, the average is the model this run produces; the online weights are scored for comparison.
      const produced = average?.net ?? net;
      // Checked between validation batches too: a large validation set takes longer on a CPU than
      // the heartbeat interval a worker that lost its lease has left to stop.
      const validation = { onProgress: stopIfAborted };
      const valLogits = await logitsFor(produced, valImages, norm, 64, validation);
      const vm = computeMetrics(softmaxRows(valLogits, labels.length), valTargets, labels);
      if (valImages.length && !Number.isFinite(vm.nll)) throw new Error(`Validation loss became ${vm.nll} after epoch ${epoch + 1}; lower --lr`);
      const online = average ? computeMetrics(softmaxRows(await logitsFor(net, valImages, norm, 64, validation), labels.length), valTargets, labels) : null;
      stopIfAborted();
      const record: EpochRecord = {
        epoch: epoch + 1,
        phase,
        trainLoss: lossSum / Math.max(1, seen),
        trainAcc: correct / Math.max(1, seen),
        valLoss: vm.nll,
        valAcc: vm.top1,
        valBalancedAcc: vm.balancedAccuracy,
        lr,
        seconds,
        imgPerSec: seen / seconds,
        ...(online && { onlineValAcc: online.top1, onlineValBalancedAcc: online.balancedAccuracy }),
      };
      state.history.push(record);
      state.epoch = epoch;
      // Balanced accuracy first (class-imbalanced data), lower loss breaks ties.
      const score = vm.balancedAccuracy - 1e-3 * vm.nll;
      const best = valImages.length === 0 || score > state.bestScore;
      if (best) {
        state.bestScore = score;
        state.bestEpoch = epoch;
        state.sinceBest = 0;
        await saveModel(out, produced, cardBase(valImages.length ? vm : null, 1, false));
      } else state.sinceBest++;
      stopIfAborted();
      await appendFile(path.join(out, 'metrics.jsonl'), JSON.stringify({ ...record, backend, time: new Date().toISOString() }) + '\n');
      state.emaUpdates = average?.updateCount;
      // Decided before the checkpoint is written, so a resumed run knows it has finished.
      stoppedEarly = options.patience !== undefined && state.sinceBest >= options.patience && phase === 'full';
      if (stoppedEarly) state.stoppedEarly = true;
      stopIfAborted();
      await writeCheckpoint(ckptDir, net, optimizer, state, cardBase(null, 1, false), average?.net);
      onProgress({ type: 'epoch', epochs, ...record, best });
    }
  } catch (e) {
    if (!(e instanceof TrainingCancelled && persistOnAbort)) {
      net.dispose();
      average?.dispose();
      optimizer.dispose();
      throw e;
    }
    cancelled = true;
  }
  optimizer.dispose();
  net.dispose();
  average?.dispose();

  // ---- calibration and final card ----------------------------------------------------
  let card: ModelCard;
  let metrics: EvalMetrics | null = null;
  // Without persistOnAbort an abort from here on (the last epoch's calibration pass takes longer
  // than a lost lease leaves) ends the run as in the loop: nothing more written.
  stopIfAborted();
  const best = state.bestEpoch >= 0 ? await loadNetwork(out) : null;
  if (best) {
    let logits: Float32Array;
    try {
      logits = await logitsFor(best.net, valImages, norm, 64, { onProgress: stopIfAborted });
      stopIfAborted();
    } catch (e) {
      best.net.dispose();
      throw e;
    }
    const before = computeMetrics(softmaxRows(logits, labels.length), valTargets, labels);
    const fit: TemperatureFit = valIsTrain
      ? { temperature: 1, fitted: false, why: 'the validation images are training images' }
      : calibrationFor(logits, valTargets, labels.length);
    const { temperature, fitted } = fit;
    // No validation images (possible only with valFraction 0 or a tiny data set): no figures at
    // all, rather than zeros that read as a 0% model.
    metrics = valImages.length ? computeMetrics(softmaxRows(logits, labels.length, temperature), valTargets, labels) : null;
    const extra = { ...(metrics ? { eceBefore: before.ece, eceAfter: metrics.ece } : {}), ...(fit.fitted ? {} : { notFittedBecause: fit.why }) };
    card = await saveModel(out, best.net, cardBase(metrics, temperature, fitted, extra, !cancelled));
    best.net.dispose();
    stopIfAborted();
    if (metrics) await writeFile(path.join(out, 'confusion.svg'), confusionSvg(metrics.confusion, labels, 'Validation confusion matrix'));
  } else {
    card = { ...(cardBase(null, 1, false, {}, !cancelled) as Omit<ModelCard, 'format' | 'weightsSha256'>), format: 'rcmnet-model-card/1', weightsSha256: '' };
  }
  stopIfAborted();
  await writeFile(path.join(out, 'training-curve.svg'), trainingCurveSvg(state.history, { bestEpoch: state.bestEpoch >= 0 ? state.bestEpoch + 1 : undefined }));
  onProgress({ type: 'done', modelDir: out, epochsRun: state.history.length, stoppedEarly, cancelled });
  return { modelDir: out, metrics, history: state.history, backend: currentBackend(), card, cancelled };
}

/**
 * `--resume` with no checkpoint. A model in `out` of the same run (compared above) is either one
 * killed between its first save and its first checkpoint (epoch 1 of several), trained again from
 * the start, or one whose checkpoint is gone (the platform deletes those of settled runs): not
 * trained over, since nothing of it can be continued and its model may be registered.
 */
async function startOver(leftModel: ModelCard | undefined, epochs: number, out: string, disposeSetup: () => void): Promise<void> {
  const epochsRun = leftModel?.training['epochsRun'];
  if (leftModel && !(epochsRun === 1 && epochs > 1)) {
    disposeSetup();
    throw new Error(`--resume: ${out} holds this run's model (${String(epochsRun)} of ${epochs} epochs) but no checkpoint to continue from (a settled run's is deleted): nothing to resume; train into a new --out to train again`);
  }
  process.stderr.write(`rcmnet: --resume given but ${path.join(out, 'checkpoint')} has no checkpoint; starting fresh\n`);
  // A kill during the first checkpoint leaves epoch 1's metrics line: it is trained again.
  await rm(path.join(out, 'metrics.jsonl'), { force: true });
}

async function writeCheckpoint(dir: string, net: Network, optimizer: Optimizer, state: CheckpointState, card: Omit<ModelCard, 'format' | 'weightsSha256'>, average?: Network): Promise<void> {
  const tmp = `${dir}.next`;
  await rm(tmp, { recursive: true, force: true });
  await saveModel(tmp, net, card);
  if (average) await saveModel(path.join(tmp, 'ema'), average, card);
  const { meta, bin } = await optimizer.state();
  await writeFile(path.join(tmp, 'optimizer.json'), JSON.stringify(meta));
  await writeFile(path.join(tmp, 'optimizer.bin'), bin);
  await writeFile(path.join(tmp, 'state.json'), JSON.stringify(state));
  // Swap directories so a kill leaves either the previous or the new checkpoint intact.
  await rm(`${dir}.old`, { recursive: true, force: true });
  try {
    await rename(dir, `${dir}.old`);
  } catch {
    // First checkpoint.
  }
  await rename(tmp, dir);
  await rm(`${dir}.old`, { recursive: true, force: true });
}

/**
 * The confidence under which the model abstains. The top probability of K classes is never under
 * 1/K, so a threshold at or below it never leaves a cell for review: refused when asked for, and
 * the usual 0.5 (or a parent's, trained on more classes) raised for a two-class model.
 */
export function abstainThresholdFor(classes: number, asked: number | undefined, inherited: number | undefined): number {
  const floor = 1 / classes;
  if (asked !== undefined) {
    checkAbstainThreshold(asked, classes); // the rule predict() applies too
    return asked;
  }
  const usual = inherited ?? 0.5;
  return usual > floor ? usual : (1 + floor) / 2;
}
