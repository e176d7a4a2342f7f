/**
 * End-to-end model tests on generated data: learning, artifact round trip and integrity,
 * tensor leaks, resume, cancellation, transfer learning, prediction, Grad-CAM, evaluation.
 * One small RCMNet is trained once (beforeAll) and reused.
 */
import { appendFile, cp, mkdir, readdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, ModelIntegrityError, readCard, runState } from './artifact.js';
import { loadModel, UNIDENTIFIED } from './classifier.js';
import { loadDataset } from './data.js';
import { calibratedProbabilities, evaluate } from './evaluate.js';
import { encodePng } from './image.js';
import { dihedralViews, logitsFor, loadImages } from './inference.js';
import { synthCell, writeSynthDataset } from './synth.js';
import { tempDir } from './testing.js';
import { tf } from './tf.js';
import { checkTrainOptions, train, TrainingCancelled, type TrainEvent, type TrainResult } from './train.js';

let dir: string;
let cleanup: () => Promise<void>;
let data: string;
let result: TrainResult;
const stepTensorCounts: number[] = [];
let tensorsBefore = 0;

const tiny = { arch: 'rcmnet' as const, size: 32, widthMultiplier: 0.25, batchSize: 32, seed: 1 };

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  data = path.join(dir, 'data');
  // 5 classes x 60 (48 train / 12 val each).
  await writeSynthDataset(data, { perClass: 60, size: 32, seed: 11 });
  const { initBackend } = await import('./backend.js');
  await initBackend({ quiet: true });
  tensorsBefore = tf.memory().numTensors;
  result = await train({ ...tiny, data, out: path.join(dir, 'model'), epochs: 5 }, (e: TrainEvent) => {
    if (e.type === 'step') stepTensorCounts.push(tf.memory().numTensors);
  });
});
afterAll(() => cleanup());

describe('training on synthetic cells', () => {
  it('a small RCMNet reaches >= 95% validation accuracy', () => {
    expect(result.cancelled).toBe(false);
    // Printed so the figure quoted in docs/model.md can be read off a test run.
    console.info(`synthetic val top-1 ${result.metrics!.top1.toFixed(4)}, balanced ${result.metrics!.balancedAccuracy.toFixed(4)}`);
    expect(result.metrics!.top1).toBeGreaterThanOrEqual(0.95);
    expect(result.metrics!.balancedAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.history).toHaveLength(5);
  });

  it('leaks no tensors across training steps or the whole run', () => {
    expect(stepTensorCounts.length).toBeGreaterThan(10);
    expect(new Set(stepTensorCounts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('writes the artifact, metrics, plots and a card with backend, data snapshot and calibration', async () => {
    const out = result.modelDir;
    for (const f of ['topology.json', 'weights.bin', 'model-card.json', 'metrics.jsonl', 'training-curve.svg', 'confusion.svg', 'checkpoint/state.json']) {
      await expect(stat(path.join(out, f))).resolves.toBeTruthy();
    }
    const card = await readCard(out);
    expect(card.backend).toBe(result.backend);
    expect(card.labels).toEqual(['car_t', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil']);
    expect(card.data.snapshotId).toMatch(/^[0-9a-f]{16}$/);
    // 60 validation images: too few to fit a temperature on (metrics.test.ts covers the fit).
    expect(card.calibration).toMatchObject({ temperature: 1, fittedOn: 'none', notFittedBecause: expect.stringMatching(/^60 validation image/) });
    expect(card.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(card.parameterCount).toBeGreaterThan(100_000);
    // Trained on images as given (no cropContext option): the card claims no framing.
    expect(card.cropContext).toBeNull();
    // Only the final save says the run is complete; the checkpoint's card (like each epoch's save) does not.
    expect(card.training).toMatchObject({ epochs: 5, epochsRun: 5, complete: true });
    expect((await readCard(path.join(out, 'checkpoint'))).training['complete']).toBe(false);
    const lines = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; backend: string });
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(lines[0]!.backend).toBe(result.backend);
  });
});

describe('model artifact', () => {
  it('save -> load gives bit-identical predictions', async () => {
    const ds = await loadDataset(data);
    const images = await loadImages(ds.val.slice(0, 20).map((s) => s.path), 32);
    const a = await loadNetwork(result.modelDir);
    const b = await loadNetwork(result.modelDir);
    const la = await logitsFor(a.net, images, a.card.normalization);
    const lb = await logitsFor(b.net, images, b.card.normalization);
    expect(Buffer.from(la.buffer).equals(Buffer.from(lb.buffer))).toBe(true);
    // And the loaded weights are the saved bytes.
    const { serializeWeights, sha256 } = await import('./artifact.js');
    expect(sha256((await serializeWeights(a.net)).bin)).toBe(a.card.weightsSha256);
    a.net.dispose();
    b.net.dispose();
  });

  it('test-time augmentation: the 8-view logits are the same for a cell in any orientation', async () => {
    const ds = await loadDataset(data);
    const images = await loadImages(ds.val.slice(0, 6).map((s) => s.path), 32);
    // The image turned by 90°: row r, column c of the result is row c, column w-1-r of the input.
    const rotate = (img: (typeof images)[number]) => {
      const { width: w, height: h, data: src } = img;
      const out = new Uint8Array(src.length);
      for (let r = 0; r < w; r++)
        for (let c = 0; c < h; c++) for (let k = 0; k < 3; k++) out[(r * h + c) * 3 + k] = src[(c * w + (w - 1 - r)) * 3 + k]!;
      return { width: h, height: w, data: out };
    };
    const { net, card } = await loadNetwork(result.modelDir);
    const plain = await logitsFor(net, images, card.normalization);
    const tta = await logitsFor(net, images, card.normalization, 4, { tta: true });
    const turned = await logitsFor(net, images.map(rotate), card.normalization, 4, { tta: true });
    net.dispose();
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < tta.length; i++) expect(Math.abs(tta[i]! - turned[i]!)).toBeLessThan(1e-4 * (1 + maxAbs(tta)));
    // And it is not the plain forward pass (the network itself is not rotation-invariant).
    expect(tta.some((v, i) => Math.abs(v - plain[i]!) > 1e-3)).toBe(true);
    // The views of a 3 x 2 image with distinct pixels: the image itself first, eight different
    // ones, its 90° turn among them.
    const small = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
    const views = dihedralViews(small);
    expect(views[0]).toEqual(small);
    expect(new Set(views.map((v) => `${v.width}x${v.height}:${v.data.join(',')}`)).size).toBe(8);
    const turned90 = rotate(small);
    expect(views.some((v) => v.width === turned90.width && v.data.every((x, i) => x === turned90.data[i]))).toBe(true);
  });

  it('refuses weights whose sha256 does not match the card', async () => {
    const { cp } = await import('node:fs/promises');
    const copy = path.join(dir, 'tampered');
    await cp(result.modelDir, copy, { recursive: true });
    const w = await readFile(path.join(copy, 'weights.bin'));
    w[100] = w[100]! ^ 0x01;
    await writeFile(path.join(copy, 'weights.bin'), w);
    await expect(loadNetwork(copy)).rejects.toBeInstanceOf(ModelIntegrityError);
    await expect(loadModel(copy)).rejects.toThrow(/does not match the model card/);
  });

  it('refuses a model card that is not JSON, lacks its labels, or disagrees with the topology', async () => {
    const copy = path.join(dir, 'edited-card');
    await cp(result.modelDir, copy, { recursive: true });
    const cardPath = path.join(copy, 'model-card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as Record<string, unknown> & { labels: string[] };
    await writeFile(cardPath, JSON.stringify(card).slice(0, 40));
    await expect(loadNetwork(copy)).rejects.toThrow(/model-card\.json: not valid JSON/);
    await writeFile(cardPath, JSON.stringify({ ...card, labels: undefined }));
    await expect(loadNetwork(copy)).rejects.toThrow(/model-card\.json: missing or invalid labels/);
    // One class dropped from the card: the softmax would run over the wrong outputs.
    await writeFile(cardPath, JSON.stringify({ ...card, labels: card.labels.slice(0, -1) }));
    await expect(loadNetwork(copy)).rejects.toThrow(/does not match topology\.json/);
    await writeFile(cardPath, JSON.stringify({ ...card, inputSize: 64 }));
    await expect(loadModel(copy)).rejects.toBeInstanceOf(ModelIntegrityError);
  });
});

describe('CellClassifier', () => {
  it('predicts labels with calibrated probabilities, abstains below the threshold, leaks nothing', async () => {
    const model = await loadModel(result.modelDir);
    const cells = ['car_t', 'eosinophil', 'neutrophil'] as const;
    const buffers = await Promise.all(cells.map((c, i) => encodePng(synthCell(c, 32, 9000 + i))));
    const first = await model.predict(buffers);
    const before = tf.memory().numTensors;
    const preds = await model.predict(buffers);
    await model.predict(buffers);
    expect(tf.memory().numTensors).toBe(before);
    expect(preds.map((p) => p.topLabel)).toEqual([...cells]);
    expect(preds).toEqual(first);
    for (const p of preds) {
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.confidence).toBe(Math.max(...Object.values(p.probabilities)));
    }
    // 1: every cell the model is not certain of is left for review (over 1 is refused: see classifier.test.ts).
    const strict = await model.predict(buffers, { abstainThreshold: 1 });
    expect(strict.map((p) => [p.abstained, p.label])).toEqual(preds.map((p) => [p.confidence < 1, p.confidence < 1 ? UNIDENTIFIED : p.topLabel]));
    await expect(model.predict([Buffer.from('nope')])).rejects.toThrow(/not a recognised image/);
    // A batch size that would loop forever (0, negative) or skip the forward pass (NaN).
    for (const batchSize of [0, -1, Number.NaN, 1.5]) await expect(model.predict(buffers, { batchSize })).rejects.toThrow(/batchSize must be a whole number >= 1/);
    model.dispose();
    await expect(model.predict(buffers)).rejects.toThrow(/after dispose/);
  });

  it('explain() returns a Grad-CAM PNG overlay', async () => {
    const model = await loadModel(result.modelDir);
    const png = await model.explain(await encodePng(synthCell('monocyte', 32, 5)), { size: 96 });
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 96]);
    await expect(model.explain(await encodePng(synthCell('monocyte', 32, 5)), { label: 'basophil' })).rejects.toThrow(/Unknown label/);
    model.dispose();
  });

  it('evaluate() reports the card metrics on the validation split', async () => {
    const m = await evaluate(result.modelDir, data);
    expect(m.count).toBe(60);
    expect(m.top1).toBeCloseTo(result.metrics!.top1, 6);
    expect(m.confusion.flat().reduce((a, b) => a + b, 0)).toBe(60);
    expect(Object.keys(m.perClass)).toHaveLength(5);
    expect(m.ece).toBeGreaterThanOrEqual(0);
    // The val split chose the saved epoch and the temperature, the model learned the train split:
    // both in-sample, also through the manifest of the same folder.
    expect(m.inSample).toBe(true);
    expect((await evaluate(result.modelDir, data, { split: 'train' })).inSample).toBe(true);
    const copy = path.join(dir, 'data-copy');
    await cp(data, copy, { recursive: true });
    expect((await evaluate(result.modelDir, copy)).inSample).toBe(true);
  });

  it('evaluate() of an ensemble scores the mean of its members\' calibrated probabilities', async () => {
    const other = await train({ ...tiny, data, out: path.join(dir, 'ensemble-member'), epochs: 1, maxPerClass: 10, seed: 7 });
    const samples = (await loadDataset(data)).val;
    const [a, b, ab] = await Promise.all([[result.modelDir], [other.modelDir], [result.modelDir, other.modelDir]].map((dirs) => calibratedProbabilities(dirs, samples)));
    expect(Array.from(a!)).not.toEqual(Array.from(b!));
    ab!.forEach((p, i) => expect(p).toBeCloseTo((a![i]! + b![i]!) / 2, 6));
    const m = await evaluate([result.modelDir, other.modelDir], data);
    expect(m.members).toEqual([result.modelDir, other.modelDir]);
    expect(m.count).toBe(60);
    // Members must share one label list: refused before any image is read.
    const transfer = path.join(dir, 'other-labels');
    await cp(result.modelDir, transfer, { recursive: true });
    const cardPath = path.join(transfer, 'model-card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { labels: string[] };
    await writeFile(cardPath, JSON.stringify({ ...card, labels: [...card.labels].reverse() }));
    await expect(evaluate([result.modelDir, transfer], data)).rejects.toThrow(/an ensemble needs one label list in one order/);
    await expect(evaluate([], data)).rejects.toThrow(/No model to evaluate/);
  });
});

describe('resume, cancellation and transfer learning', () => {
  it('a run killed mid-epoch and resumed ends with the same weights as an uninterrupted run', async () => {
    // Batches of 16: two whole steps per epoch, so there is a mid-epoch to be killed in.
    const opts = { ...tiny, data, epochs: 2, maxPerClass: 10, batchSize: 16 };
    await train({ ...opts, out: path.join(dir, 'full') });
    const controller = new AbortController();
    const interrupted = await train({ ...opts, out: path.join(dir, 'resumed'), signal: controller.signal }, (e) => {
      if (e.type === 'step' && e.epoch === 2) controller.abort();
    });
    expect(interrupted.cancelled).toBe(true);
    expect(interrupted.history.map((h) => h.epoch)).toEqual([1]);
    // The model a cancelled run leaves is not a finished one (predict, eval and explain warn).
    expect(runState(await readCard(path.join(dir, 'resumed')))).toMatchObject({ finished: false, epochsRun: 1, epochs: 2 });
    // A kill after the metrics line of epoch 2 but before its checkpoint leaves that line behind.
    await appendFile(path.join(dir, 'resumed/metrics.jsonl'), `${JSON.stringify({ epoch: 2, valAcc: 0 })}\n`);
    // A disk that filled up mid-line leaves a line cut short: skipped, not fatal.
    await appendFile(path.join(dir, 'resumed/metrics.jsonl'), '{"epoch": 2, "valA');
    // A checkpoint with a part missing is damaged: refused, not silently restarted over its state.
    await cp(path.join(dir, 'resumed'), path.join(dir, 'damaged'), { recursive: true });
    await rm(path.join(dir, 'damaged/checkpoint/optimizer.json'));
    await expect(train({ ...opts, out: path.join(dir, 'damaged'), resume: true })).rejects.toThrow(/checkpoint damaged in .*damaged.checkpoint \(/);
    // Another recipe is another run: refused, nothing trained.
    await expect(train({ ...opts, epochs: 3, out: path.join(dir, 'resumed'), resume: true })).rejects.toThrow(/different recipe \(epochs: 2 in the checkpoint, 3 now;/);
    await expect(train({ ...opts, augment: false, out: path.join(dir, 'resumed'), resume: true })).rejects.toThrow(/different recipe \(augment: \{"cropScale":\[0.7,1\],"cropProbability":0.5,.*\} in the checkpoint, false now\)/);
    // Other labels (order too), another network or other data: another run, refused before decoding.
    const labels = (await loadDataset(data)).labels;
    await expect(train({ ...opts, labels: [...labels].reverse(), out: path.join(dir, 'resumed'), resume: true })).rejects.toThrow(
      /--resume of another run \(labels .+ in the checkpoint, .+ now/,
    );
    await expect(train({ ...opts, size: 48, out: path.join(dir, 'resumed'), resume: true })).rejects.toThrow(/--resume of another run \(network .*"inputSize":32.* in the checkpoint/);
    await expect(train({ ...opts, maxPerClass: 8, out: path.join(dir, 'resumed'), resume: true })).rejects.toThrow(/--resume of another run \(data snapshot/);
    const resumed = await train({ ...opts, out: path.join(dir, 'resumed'), resume: true });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(runState(await readCard(path.join(dir, 'resumed'))).finished).toBe(true);
    const [a, b] = await Promise.all([readFile(path.join(dir, 'full/checkpoint/weights.bin')), readFile(path.join(dir, 'resumed/checkpoint/weights.bin'))]);
    expect(a.equals(b)).toBe(true);
    const lines = (await readFile(path.join(dir, 'resumed/metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; valAcc: number });
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    expect(lines[1]!.valAcc).toBe(resumed.history[1]!.valAcc);
  });

  it('a run that stopped early stays finished when resumed', async () => {
    const opts = { ...tiny, data, epochs: 6, maxPerClass: 10, patience: 1, lr: 1e-12, out: path.join(dir, 'early') };
    const first = await train(opts);
    expect(first.history.length).toBeLessThan(6);
    const again = await train({ ...opts, resume: true });
    expect(again.history.map((h) => h.epoch)).toEqual(first.history.map((h) => h.epoch));
    // Fewer epochs than asked for, but finished: patience ended it.
    expect(runState(await readCard(path.join(dir, 'early')))).toMatchObject({ finished: true, epochs: 6 });
  });

  it('refuses nonsensical options before reading any data', () => {
    const base = { data: 'unused', out: 'unused' };
    for (const [bad, message] of [
      [{ epochs: 0 }, /epochs must be an integer >= 1/],
      [{ epochs: 2.5 }, /epochs must be an integer/],
      [{ batchSize: 0 }, /--batch \(batchSize\) must be an integer >= 1/],
      [{ maxPerClass: 0 }, /--max-per-class \(maxPerClass\) must be an integer >= 1/],
      [{ patience: 0 }, /patience must be/],
      [{ labelSmoothing: 2 }, /--label-smoothing \(labelSmoothing\) must be in \[0, 1\)/],
      [{ lr: -1 }, /lr must be a positive number/],
      [{ stem: 'foo' as 'compact' }, /stem must be imagenet or compact/],
      [{ size: 8 }, /size must be an integer >= 16/],
    ] as const) {
      expect(() => checkTrainOptions({ ...base, ...bad })).toThrow(message);
    }
    expect(() => checkTrainOptions({ ...base, epochs: 3, batchSize: 16, from: 'unused', headEpochs: 0 })).not.toThrow();
  });

  it('refuses a class with no training images (only in val or test) before decoding anything', async () => {
    const ds = await loadDataset(data, { maxPerClass: 4 });
    const [only, ...rest] = ds.labels;
    const rows = [
      ...ds.train.filter((s) => s.label !== only).map((s) => `train,${s.label},${s.path}`),
      ...ds.train.map((s) => `val,${s.label},${s.path}`),
    ];
    const manifest = path.join(dir, 'val-only-class.csv');
    await writeFile(manifest, `split,label,path\n${rows.join('\n')}\n`);
    expect(rest.length).toBeGreaterThan(0);
    await expect(train({ ...tiny, data: manifest, epochs: 1, out: path.join(dir, 'val-only-class') })).rejects.toThrow(
      new RegExp(`no training images of ${only} \\(only in val or test\\)`),
    );
  });

  it('refuses fewer than two classes or a class listed twice before building a network', async () => {
    const labels = (await loadDataset(data)).labels;
    const before = tf.memory().numTensors;
    await expect(train({ ...tiny, data, epochs: 1, labels: [labels[0]!], out: path.join(dir, 'one-class') })).rejects.toThrow(/at least two classes, got /);
    await expect(train({ ...tiny, data, epochs: 1, labels: [labels[0]!, labels[0]!, labels[1]!], out: path.join(dir, 'twice') })).rejects.toThrow(
      new RegExp(`the class ${labels[0]} is listed twice`),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees its network when an image cannot be decoded (a worker retries in the same process)', async () => {
    const ds = await loadDataset(data, { maxPerClass: 4 });
    const corrupt = path.join(dir, 'corrupt.png');
    await writeFile(corrupt, Buffer.from('\x89PNG\r\n\x1a\n not really a png'));
    const rows = [...ds.train.map((s) => `train,${s.label},${s.path}`), `train,${ds.labels[0]},${corrupt}`];
    const manifest = path.join(dir, 'corrupt-image.csv');
    await writeFile(manifest, `split,label,path\n${rows.join('\n')}\n`);
    const before = tf.memory().numTensors;
    await expect(train({ ...tiny, data: manifest, epochs: 1, out: path.join(dir, 'corrupt-run') })).rejects.toThrow(/corrupt\.png/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--resume with no checkpoint starts fresh without the metrics line a killed first epoch left', async () => {
    const out = path.join(dir, 'no-checkpoint');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'metrics.jsonl'), `${JSON.stringify({ epoch: 1, valAcc: 0 })}\n`);
    const r = await train({ ...tiny, data, epochs: 1, maxPerClass: 4, out, resume: true });
    const lines = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { valAcc: number });
    expect(lines.map((l) => l.valAcc)).toEqual([r.history[0]!.valAcc]);
  });

  it('fits no temperature when the validation images are training images (a snapshot with no VAL part)', async () => {
    const ds = await loadDataset(data, { maxPerClass: 10 });
    const rows = ds.train.flatMap((s) => [`train,${s.label},${s.path}`, `val,${s.label},${s.path}`]);
    const manifest = path.join(dir, 'val-is-train.csv');
    await writeFile(manifest, `split,label,path\n${rows.join('\n')}\n`);
    const r = await train({ ...tiny, data: manifest, epochs: 1, out: path.join(dir, 'val-is-train') });
    expect(r.card.calibration).toMatchObject({ temperature: 1, fittedOn: 'none' });
  });

  it('with a weight average (--ema) saves the average, records the online weights, and resumes it exactly', async () => {
    const opts = { ...tiny, data, epochs: 2, maxPerClass: 10, ema: 0.9 };
    const full = await train({ ...opts, out: path.join(dir, 'ema-full') });
    expect(full.card.training).toMatchObject({ ema: 0.9 });
    for (const h of full.history) {
      expect(h.onlineValAcc).toBeGreaterThanOrEqual(0);
      expect(h.onlineValBalancedAcc).toBeGreaterThanOrEqual(0);
    }
    // The saved model is the average, not the online weights.
    const saved = await readFile(path.join(dir, 'ema-full/weights.bin'));
    const online = await readFile(path.join(dir, 'ema-full/checkpoint/weights.bin'));
    const average = await readFile(path.join(dir, 'ema-full/checkpoint/ema/weights.bin'));
    expect(saved.equals(online)).toBe(false);
    if (full.card.training.bestEpoch === 2) expect(saved.equals(average)).toBe(true);

    const controller = new AbortController();
    await train({ ...opts, out: path.join(dir, 'ema-resumed'), signal: controller.signal }, (e) => {
      if (e.type === 'step' && e.epoch === 2) controller.abort();
    });
    const resumed = await train({ ...opts, out: path.join(dir, 'ema-resumed'), resume: true });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    const again = await readFile(path.join(dir, 'ema-resumed/checkpoint/ema/weights.bin'));
    expect(again.equals(average)).toBe(true);
  });

  it('refuses a crop framing under 1 or not a number before reading any data', async () => {
    for (const cropContext of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(train({ ...tiny, data: path.join(dir, 'no-such-data'), out: path.join(dir, 'ctx-bad'), cropContext })).rejects.toThrow(/cropContext must be/);
    }
  });

  it('refuses an EMA decay outside (0, 1) before reading any data', async () => {
    await expect(train({ ...tiny, data: path.join(dir, 'no-such-data'), out: path.join(dir, 'ema-bad'), ema: 1 })).rejects.toThrow(/between 0 and 1/);
  });

  it('stops cleanly when the AbortSignal fires', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const r = await train({ ...tiny, data, out: path.join(dir, 'cancelled'), epochs: 3, maxPerClass: 10, batchSize: 16, signal: controller.signal }, (e) => {
      if (e.type === 'step' && e.step === 1) controller.abort();
    });
    expect(r.cancelled).toBe(true);
    expect(r.history).toHaveLength(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with persistOnAbort false, writes nothing once the AbortSignal fires (a worker that lost its lease)', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const out = path.join(dir, 'lease-lost');
    // Aborted on the last step of epoch 1: before the fix, that epoch's validation still ran and its
    // model, metrics line and checkpoint were written, then the model was saved again.
    const run = train({ ...tiny, data, out, epochs: 2, maxPerClass: 10, batchSize: 16, signal: controller.signal, persistOnAbort: false }, (e) => {
      if (e.type === 'step' && e.epoch === 1 && e.step === e.steps) controller.abort('lost');
    });
    const outcome = await run.catch((e: unknown) => e);
    // No checkpoint, metrics.jsonl, model or plot: `out` is as empty as train() made it.
    expect(await readdir(out)).toEqual([]);
    expect(outcome).toBeInstanceOf(TrainingCancelled);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with persistOnAbort false, an abort during the last calibration pass writes no model or plot either', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const out = path.join(dir, 'lease-lost-late');
    // Aborted once the last epoch is recorded: the calibration of the best model is still to run.
    const run = train({ ...tiny, data, out, epochs: 1, maxPerClass: 10, batchSize: 16, signal: controller.signal, persistOnAbort: false }, (e) => {
      if (e.type === 'epoch') controller.abort('lost');
    });
    const outcome = await run.catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(TrainingCancelled);
    // What the epoch wrote before the signal (its model, metrics line, checkpoint) stays for the
    // next worker to resume from; the final card and plots are not written over it.
    const files = await readdir(out);
    expect(files).not.toContain('training-curve.svg');
    expect(files).not.toContain('confusion.svg');
    expect((await readCard(out)).training['complete']).not.toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops while decoding the images when the AbortSignal fires, leaking no tensor', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const run = train({ ...tiny, data, out: path.join(dir, 'cancelled-decode'), epochs: 3, maxPerClass: 10, signal: controller.signal }, (e) => {
      if (e.type === 'decode' && e.done === 1) controller.abort();
    });
    await expect(run).rejects.toBeInstanceOf(TrainingCancelled);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('transfer learning replaces the head, trains it frozen, then unfreezes', async () => {
    const r = await train({ data, from: result.modelDir, labels: ['car_t', 'lymphocyte'], out: path.join(dir, 'transfer'), epochs: 2, headEpochs: 1, maxPerClass: 20, batchSize: 32, seed: 2 });
    expect(r.history.map((h) => h.phase)).toEqual(['head', 'full']);
    const card = await readCard(r.modelDir);
    expect(card.labels).toEqual(['car_t', 'lymphocyte']);
    expect(card.parent?.weightsSha256).toBe(result.card.weightsSha256);
    expect(card.config.numClasses).toBe(2);
    // The frozen phase must leave the backbone untouched: compare a backbone weight
    // after epoch 1 (checkpoint of a 1-epoch head-only run) with the parent's.
    const headOnly = await train({ data, from: result.modelDir, labels: ['car_t', 'lymphocyte'], out: path.join(dir, 'head-only'), epochs: 1, headEpochs: 1, maxPerClass: 20, batchSize: 32, seed: 2 });
    const parent = await loadNetwork(result.modelDir);
    const child = await loadNetwork(headOnly.modelDir);
    const key = 's0.b0/conv1/w';
    expect(Buffer.from((await child.net.params.get(key).data()).buffer).equals(Buffer.from((await parent.net.params.get(key).data()).buffer))).toBe(true);
    expect(child.net.params.get('head/fc/w').shape).toEqual([parent.net.config.widths[3], 2]);
    parent.net.dispose();
    child.net.dispose();
  });

  it('--resume of a transfer run checks the base by its weights, not by the --from path', async () => {
    // Two bases of one network and labels, other weights: A is the model trained above.
    const baseA = path.join(dir, 'base');
    await cp(result.modelDir, baseA, { recursive: true });
    const other = await train({ ...tiny, data, out: path.join(dir, 'base-b'), epochs: 1, maxPerClass: 4 });
    expect(other.card.config).toEqual(result.card.config);
    expect(other.card.weightsSha256).not.toBe(result.card.weightsSha256);
    const opts = { data, labels: ['car_t', 'lymphocyte'], out: path.join(dir, 'from-base'), epochs: 2, headEpochs: 1, maxPerClass: 10, batchSize: 8, seed: 4 };
    const controller = new AbortController();
    // Two steps an epoch: stopped in epoch 2, a checkpoint of epoch 1 is left.
    const stopped = await train({ ...opts, from: baseA, signal: controller.signal }, (e) => {
      if (e.type === 'step' && e.epoch === 2) controller.abort();
    });
    expect(stopped.cancelled).toBe(true);
    const card = async () => JSON.stringify(await readCard(opts.out));
    const before = await card();
    // Another model put at A's path: another run, refused before anything is written.
    await rm(baseA, { recursive: true });
    await cp(other.modelDir, baseA, { recursive: true });
    await expect(train({ ...opts, from: baseA, resume: true })).rejects.toThrow(
      new RegExp(`--resume of another run \\(base .+ \\(weights ${result.card.weightsSha256.slice(0, 12)}\\) in the checkpoint, base .+ \\(weights ${other.card.weightsSha256.slice(0, 12)}\\) now\\)`),
    );
    expect(await card()).toBe(before);
    // A back at its path, named another way (relative, trailing slash): the same base, resumed.
    await rm(baseA, { recursive: true });
    await cp(result.modelDir, baseA, { recursive: true });
    const resumed = await train({ ...opts, from: `${path.relative(process.cwd(), baseA)}${path.sep}`, resume: true });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(resumed.card.parent?.weightsSha256).toBe(result.card.weightsSha256);
  });

  it('transfer learning: patience counts fine-tuning epochs only, not the frozen head epochs', async () => {
    // A learning rate too small to move anything: no epoch after the first improves, so the
    // head phase ends with 1 epoch "without improvement". That must not count against the
    // full phase, which gets its own `patience` epochs.
    const r = await train({ data, from: result.modelDir, labels: ['car_t', 'lymphocyte'], out: path.join(dir, 'patience'), epochs: 6, headEpochs: 2, patience: 2, lr: 1e-12, maxPerClass: 10, batchSize: 32, seed: 3 });
    const full = r.history.filter((h) => h.phase === 'full');
    expect(r.history.filter((h) => h.phase === 'head')).toHaveLength(2);
    expect(full.length).toBeGreaterThanOrEqual(2);
  });
});
