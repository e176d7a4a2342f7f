/**
 * `rcmnet` command line: train, eval, predict, explain, synth, detect, bench.
 * Progress goes to stderr; results (JSON) to stdout, so output can be piped.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ARCHITECTURES, Network, archConfig, widthProblem, type ArchName } from './architecture.js';
import { readCard, unfinishedWarning } from './artifact.js';
import { benchTorch, defaultBenchBackends, defaultTorchScript, median, prepareBench, startBackends, torchAvailable, type PeerResult } from './bench.js';
import { loadModel, type CellClassifier } from './classifier.js';
import { cropCells, detectCells, iou, recallAt } from './detect.js';
import { evaluate, type EvalSplit } from './evaluate.js';
import { loadBccd } from './data.js';
import { encodePng, ImageDecodeError } from './image.js';
import { SYNTH_CLASSES, synthField, writeSynthDataset } from './synth.js';
import { train, TrainingCancelled, type TrainEvent } from './train.js';
import { BACKEND_ORDER, initBackend, isKnownBackend } from './backend.js';
import { OptionError, checkAbstainThreshold } from './options.js';
import { countPrinter, fmtTime } from './progress.js';

type Options = ParseArgsConfig['options'];

interface Command {
  summary: string;
  usage: string;
  options: Options;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
}

const common: Options = { help: { type: 'boolean', short: 'h' }, backend: { type: 'string' } };

function num(v: string | boolean | undefined, name: string, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  // Number('') is 0: an empty --abstain= (an unset shell variable) would silently never abstain.
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`);
  return n;
}

/** A count such as --max-per-class: 0 or 2.5 is a mistake, not "no cap". */
function count(v: string | boolean | undefined, name: string): number | undefined {
  const n = num(v, name);
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be a whole number >= 1, got "${String(v)}"`);
  return n;
}

/** A probability threshold: 0 to 1 (50 would abstain on everything, -1 never). */
function fraction(v: string | boolean | undefined, name: string): number | undefined {
  const n = num(v, name);
  if (n !== undefined && !(n >= 0 && n <= 1)) throw new UsageError(`--${name} must be between 0 and 1, got "${String(v)}"`);
  return n;
}

function req(v: string | boolean | undefined, name: string): string {
  if (typeof v !== 'string' || !v) throw new UsageError(`--${name} is required`);
  return v;
}

/** `--labels a,b`: train's label set, and eval's labels to score (the same filter of the data). */
function labelList(v: string | boolean | undefined): string[] | undefined {
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

/** `eval --labels`: one line on what the score leaves out, so a filtered figure is never taken for the whole set's. */
function leftOutLine(split: string, leftOut: Record<string, number>): string {
  const labels = Object.entries(leftOut).sort(([a], [b]) => a.localeCompare(b));
  const images = labels.reduce((n, [, c]) => n + c, 0);
  return `${split}: left out ${images} image${images === 1 ? '' : 's'} of label(s) not in --labels: ${labels.map(([l, c]) => `${l} (${c})`).join(', ')}\n`;
}

class UsageError extends Error {}

/** Refuses flags that `mode` does not use: a flag silently ignored reads as one that took effect. */
function refuseUnused(v: Record<string, string | boolean | undefined>, flags: string[], mode: string): void {
  const given = flags.filter((f) => v[f] !== undefined);
  if (given.length) throw new UsageError(`${given.map((f) => `--${f}`).join(', ')} ${given.length === 1 ? 'is' : 'are'} not used ${mode}`);
}

/** Models already warned about in this process: one warning per model. */
const warned = new Set<string>();

/** A warning on stderr, once per model, when `dir` holds a model saved mid-run (not a finished run's). */
async function warnIfUnfinished(dir: string): Promise<void> {
  const key = path.resolve(dir);
  if (warned.has(key)) return;
  warned.add(key);
  const line = unfinishedWarning(dir, await readCard(dir));
  if (line) process.stderr.write(`rcmnet: warning: ${line}\n`);
}

/** loadModel, with the unfinished-run warning. */
async function load(dir: string, backend: string | boolean | undefined): Promise<CellClassifier> {
  await warnIfUnfinished(dir);
  return loadModel(dir, { backend: backend as string | undefined });
}

/**
 * The PNG name of each field's crops: the field's file name, with its position among the fields
 * added where two fields share one (a/f.jpg and b/f.jpg would write over each other's crops), and
 * a further `_2`, `_3`... where that name is another field's own (c/f_field1.jpg). Names are
 * compared case-folded: on a case-insensitive disk (macOS, Windows) F.png's crops and f.png's are
 * the same files. Fields whose name clashes with no other keep it; the same list gives the same names.
 */
export function cropStems(files: readonly string[]): string[] {
  const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');
  // NFC: macOS takes an accented letter composed or decomposed for one name; upper then lower case
  // folds more than either alone (ß and SS, the Kelvin sign and k): a name folded too far is only
  // renamed, one folded too little is overwritten.
  const fold = (name: string) => name.normalize('NFC').toUpperCase().toLowerCase();
  const counts = new Map<string, number>();
  for (const f of files) counts.set(fold(stem(f)), (counts.get(fold(stem(f))) ?? 0) + 1);
  const shared = (f: string) => counts.get(fold(stem(f)))! > 1;
  // Fields with a name of their own keep it: reserved before any other field's name is made.
  const used = new Set(files.filter((f) => !shared(f)).map((f) => fold(stem(f))));
  return files.map((f, i) => {
    if (!shared(f)) return stem(f);
    let name = `${stem(f)}_field${i}`;
    for (let n = 2; used.has(fold(name)); n++) name = `${stem(f)}_field${i}_${n}`;
    used.add(fold(name));
    return name;
  });
}

/** One-line progress bar on stderr (redrawn in place when stderr is a terminal). */
function progressPrinter(json: boolean): (e: TrainEvent) => void {
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  const decoding = countPrinter('decoding', 'images');
  return (e) => {
    if (e.type === 'decode') decoding(e.done, e.total);
    else if (e.type === 'start') {
      process.stderr.write(`training ${e.arch} (${e.parameterCount.toLocaleString('en')} params) on ${e.backend}: ${e.train} train / ${e.val} val images, labels ${e.labels.join(', ')}\n`);
    } else if (e.type === 'step') {
      const now = Date.now();
      if (!tty && now - lastPrint < 5000 && e.step !== e.steps) return;
      lastPrint = now;
      const width = 24;
      const filled = Math.round((e.step / e.steps) * width);
      const line = `epoch ${e.epoch}/${e.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${e.step}/${e.steps} ${e.imgPerSec.toFixed(1)} img/s loss ${e.loss.toFixed(4)} acc ${(e.acc * 100).toFixed(1)}% ETA ${fmtTime(e.etaSeconds)}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    } else if (e.type === 'epoch') {
      if (tty) process.stderr.write('\n');
      process.stderr.write(
        `epoch ${e.epoch}/${e.epochs} (${e.phase}) train loss ${e.trainLoss.toFixed(4)} acc ${(e.trainAcc * 100).toFixed(1)}% | val loss ${e.valLoss.toFixed(4)} acc ${(e.valAcc * 100).toFixed(1)}% balanced ${(e.valBalancedAcc * 100).toFixed(1)}%${e.onlineValAcc !== undefined ? ` (average; online weights ${(e.onlineValAcc * 100).toFixed(1)}%)` : ''}${e.best ? ' (best, saved)' : ''} | ${e.seconds.toFixed(1)} s\n`,
      );
      if (json) process.stdout.write(JSON.stringify(e) + '\n');
    }
  };
}

/**
 * Prints one JSON line per file, the result of `fn`. A file that cannot be read or decoded gets an
 * error line of its own instead of ending the batch, and the exit code is then 2.
 */
async function eachFile(files: string[], fn: (file: string, index: number) => Promise<object>): Promise<void> {
  let failed = 0;
  for (const [i, f] of files.entries()) {
    try {
      process.stdout.write(JSON.stringify(await fn(f, i)) + '\n');
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      failed++;
      process.stdout.write(JSON.stringify({ image: f, error: e.message, code: e.code }) + '\n');
    }
  }
  if (failed) process.exitCode = 2;
}

/** `detect FIELD`: the white cells' boxes, classified with a model, cut out as PNGs with `crops`. */
async function detectField(f: string, model: CellClassifier | null, crops: { dir: string; size: number; stem: string } | null): Promise<object> {
  const boxes = await detectCells(f);
  const labels = model && boxes.length ? await model.predict(await cropCells(f, boxes, model.inputSize)) : null;
  const written: string[] = [];
  if (crops) {
    await mkdir(crops.dir, { recursive: true });
    const imgs = await cropCells(f, boxes, crops.size);
    for (let i = 0; i < imgs.length; i++) {
      const p = path.join(crops.dir, `${crops.stem}_cell${i}.png`);
      await writeFile(p, await encodePng(imgs[i]!));
      written.push(p);
    }
  }
  const cells = boxes.map((b, i) => (labels ? { ...b, prediction: labels[i] } : b));
  return { image: f, boxes: cells, ...(written.length ? { crops: written } : {}) };
}

const commands: Record<string, Command> = {
  train: {
    summary: 'train a model (fresh, resumed, or transfer learning with --from)',
    usage: `rcmnet train --data DIR|MANIFEST --out DIR [--arch ${ARCHITECTURES.join('|')}] [--size 64|128|224] [--epochs N]
             [--batch N] [--width 1] [--stem imagenet|compact] [--optimizer adam|sgd] [--lr X] [--weight-decay 1e-4]
             [--label-smoothing 0.1] [--patience N] [--no-augment] [--no-balance]
             [--seed S] [--ema DECAY] [--resume] [--from MODEL --labels a,b,...] [--head-epochs N] [--max-per-class N] [--json]
  --ema 0.999 keeps an exponential moving average of the weights and saves the average`,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      arch: { type: 'string' },
      size: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      width: { type: 'string' },
      stem: { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      'weight-decay': { type: 'string' },
      'label-smoothing': { type: 'string' },
      patience: { type: 'string' },
      seed: { type: 'string' },
      ema: { type: 'string' },
      resume: { type: 'boolean' },
      from: { type: 'string' },
      labels: { type: 'string' },
      'head-epochs': { type: 'string' },
      'max-per-class': { type: 'string' },
      'no-augment': { type: 'boolean' },
      'no-balance': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    async run(v) {
      // Fine-tuning keeps the base model's network, input size included: these would be ignored
      // (--size only with a stderr line that a finished run's output buries).
      const newNetwork = ['arch', 'width', 'stem', 'size'].filter((k) => v[k] !== undefined);
      if (v['from'] !== undefined && newNetwork.length) {
        const flags = newNetwork.map((k) => `--${k}`).join(', ');
        const size = newNetwork.includes('size') ? ', which trains at its own input size' : '';
        throw new UsageError(`${flags} ${newNetwork.length === 1 ? 'describes' : 'describe'} a new network; with --from the network is the base model's${size}`);
      }
      const arch = (v['arch'] as string | undefined) ?? 'rcmnet';
      if (!ARCHITECTURES.includes(arch as ArchName)) throw new UsageError(`--arch must be one of ${ARCHITECTURES.join(', ')}`);
      const optimizer = (v['optimizer'] as string | undefined) ?? 'adam';
      if (optimizer !== 'adam' && optimizer !== 'sgd') throw new UsageError('--optimizer must be adam or sgd');
      const ema = num(v['ema'], 'ema');
      if (ema !== undefined && !(ema > 0 && ema < 1)) throw new UsageError('--ema must be a decay between 0 and 1, e.g. 0.999');
      // A fresh run over a finished model would leave the old weights and card in place until
      // its first epoch beats them: one Ctrl-C, and the folder looks like a finished new model.
      const out = req(v['out'], 'out');
      if (!v['resume'] && existsSync(path.join(out, 'model-card.json'))) {
        throw new UsageError(`--out ${out} already holds a model: continue its run with --resume, or train into another --out`);
      }
      const controller = new AbortController();
      process.once('SIGINT', () => {
        // Said as it is: while images are decoded there is no checkpoint yet.
        process.stderr.write('\nrcmnet: stopping after this step (a run stopped after its first epoch continues with --resume)\n');
        controller.abort();
      });
      const result = await train(
        {
          data: req(v['data'], 'data'),
          out,
          arch: arch as ArchName,
          size: num(v['size'], 'size'),
          epochs: num(v['epochs'], 'epochs'),
          batchSize: num(v['batch'], 'batch'),
          widthMultiplier: num(v['width'], 'width'),
          stem: v['stem'] as 'imagenet' | 'compact' | undefined,
          optimizer,
          lr: num(v['lr'], 'lr'),
          weightDecay: num(v['weight-decay'], 'weight-decay'),
          labelSmoothing: num(v['label-smoothing'], 'label-smoothing'),
          patience: num(v['patience'], 'patience'),
          seed: num(v['seed'], 'seed'),
          ema,
          resume: Boolean(v['resume']),
          from: v['from'] as string | undefined,
          labels: labelList(v['labels']),
          headEpochs: num(v['head-epochs'], 'head-epochs'),
          maxPerClass: count(v['max-per-class'], 'max-per-class'),
          augment: !v['no-augment'],
          balance: !v['no-balance'],
          backend: v['backend'] as string | undefined,
          signal: controller.signal,
        },
        progressPrinter(Boolean(v['json'])),
      );
      const summary = { modelDir: result.modelDir, backend: result.backend, cancelled: result.cancelled, epochs: result.history.length, metrics: result.metrics && { top1: result.metrics.top1, balancedAccuracy: result.metrics.balancedAccuracy, macroF1: result.metrics.macroF1, ece: result.metrics.ece }, temperature: result.card.calibration.temperature };
      process.stdout.write(JSON.stringify(summary) + '\n');
      // Interrupted: not a finished model (scripts chaining `train && eval` must stop here).
      if (result.cancelled) process.exitCode = 130;
    },
  },
  eval: {
    summary: 'evaluate a model on a dataset split (top1, balanced accuracy, macro-F1, per class, confusion, ECE)',
    usage: 'rcmnet eval --model DIR [--model DIR2 ...] --data DIR|MANIFEST [--split val|train|test|all] [--labels a,b,...] [--max-per-class N] [--tta] [--json]\n' +
      '  (several --model: an ensemble, the mean of the models\' calibrated probabilities)\n' +
      '  --split: default val; data with no split of its own (label folders only) is scored whole (all), except the\n' +
      '  data the model was trained on, where val is the part a hash held out of its training\n' +
      '  --labels scores only these labels of the data (a model trained with --labels, on its manifest); without it, data with a label the model does not know is refused',
    options: { model: { type: 'string', multiple: true }, data: { type: 'string' }, split: { type: 'string' }, labels: { type: 'string' }, json: { type: 'boolean' }, 'max-per-class': { type: 'string' }, tta: { type: 'boolean' } },
    async run(v) {
      const split = v['split'] as EvalSplit | undefined;
      if (split !== undefined && !['train', 'val', 'test', 'all'].includes(split)) throw new UsageError('--split must be train, val, test or all');
      const models = (v['model'] as unknown as string[] | undefined) ?? [];
      if (!models.length || models.some((m) => !m)) throw new UsageError('--model is required');
      const data = req(v['data'], 'data');
      const maxPerClass = count(v['max-per-class'], 'max-per-class');
      for (const dir of models) await warnIfUnfinished(dir);
      const m = await evaluate(models, data, {
        split, backend: v['backend'] as string | undefined, maxPerClass, tta: Boolean(v['tta']),
        labels: labelList(v['labels']),
        onDecode: countPrinter('decoding', 'images'),
        onProgress: countPrinter('eval', 'images'),
      });
      // Said before the figures: a score of a hash-made part, or of the whole set, is not what --split usually means.
      if (m.splitsAssigned) {
        process.stderr.write(
          m.split === 'all'
            ? `rcmnet: scoring all ${m.count} images: the data has no split of its own\n`
            : `rcmnet: ${m.split}: the ${m.count} images a hash of their names put in ${m.split} (the data has no split of its own${m.split === 'val' && split === undefined ? ': the part this model\'s training held out' : ''}); --split all scores every image\n`,
        );
      }
      if (v['json']) process.stdout.write(JSON.stringify(m) + '\n');
      else {
        if (m.leftOut && Object.keys(m.leftOut).length) process.stdout.write(leftOutLine(m.split, m.leftOut));
        if (m.members.length > 1) process.stdout.write(`ensemble of ${m.members.length}: ${m.members.join(', ')}\n`);
        process.stdout.write(`${m.split}${m.tta ? ' (8-view TTA)' : ''}: n=${m.count} top1 ${(m.top1 * 100).toFixed(2)}% balanced ${(m.balancedAccuracy * 100).toFixed(2)}% macro-F1 ${(m.macroF1 * 100).toFixed(2)}% ECE ${m.ece.toFixed(4)}\n`);
        for (const [l, c] of Object.entries(m.perClass)) process.stdout.write(`  ${l.padEnd(14)} P ${c.precision.toFixed(3)} R ${c.recall.toFixed(3)} F1 ${c.f1.toFixed(3)} n=${c.support}\n`);
        if (m.inSample && m.split === 'train') process.stdout.write('  (the model was trained on these images: not a measure of accuracy on new cells)\n');
        else if (m.inSample && m.split === 'all') process.stdout.write('  (the model was trained on some of these images: not a measure of accuracy on new cells)\n');
        else if (m.inSample) process.stdout.write('  (the validation split chose this model\'s saved epoch and fitted its temperature: optimistic; a held-out test split is not)\n');
      }
    },
  },
  predict: {
    summary: 'classify cell images: one JSON line per image',
    usage: 'rcmnet predict --model DIR [--abstain 0.5] IMAGE...',
    options: { model: { type: 'string' }, abstain: { type: 'string' } },
    async run(v, files) {
      if (!files.length) throw new UsageError('give at least one IMAGE');
      const abstainThreshold = fraction(v['abstain'], 'abstain');
      const model = await load(req(v['model'], 'model'), v['backend']);
      try {
        // 0 asks for no abstention at all; any other value must be able to abstain with this model's K classes.
        if (abstainThreshold) checkAbstainThreshold(abstainThreshold, model.labels.length, '--abstain');
        await eachFile(files, async (f) => {
          const [p] = await model.predict([f], { abstainThreshold });
          return { image: f, ...p };
        });
      } finally {
        model.dispose();
      }
    },
  },
  explain: {
    summary: 'write a Grad-CAM overlay PNG for one cell image',
    usage: 'rcmnet explain --model DIR IMAGE --out PNG [--label CLASS]',
    options: { model: { type: 'string' }, out: { type: 'string' }, label: { type: 'string' } },
    async run(v, files) {
      if (files.length !== 1) throw new UsageError('give exactly one IMAGE');
      // Before the model is loaded and Grad-CAM computed: a missing --out is known at once.
      const out = req(v['out'], 'out');
      const dir = req(v['model'], 'model');
      // Against the card, before the weights are loaded and the image decoded.
      const label = v['label'] as string | undefined;
      if (label !== undefined) {
        const { labels } = await readCard(dir);
        if (!labels.includes(label)) throw new UsageError(`--label ${label} is not one of the model's labels: ${labels.join(', ')}`);
      }
      const model = await load(dir, v['backend']);
      try {
        const png = await model.explain(files[0]!, { label });
        await mkdir(path.dirname(path.resolve(out)), { recursive: true });
        await writeFile(out, png);
        const [p] = await model.predict([files[0]!]);
        process.stdout.write(JSON.stringify({ image: files[0], out, explained: v['label'] ?? p!.topLabel, prediction: p }) + '\n');
      } finally {
        model.dispose();
      }
    },
  },
  synth: {
    summary: 'write a synthetic single-cell dataset (train/val class folders + manifest.csv), or smear fields with --fields',
    usage: `rcmnet synth --out DIR --per-class N [--seed S] [--size 64]   (classes: ${SYNTH_CLASSES.join(', ')})
       rcmnet synth --out DIR --fields N [--seed S]              (640x480 fields + boxes.json; no --per-class, --size)`,
    options: { out: { type: 'string' }, 'per-class': { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' }, fields: { type: 'string' } },
    async run(v) {
      const out = req(v['out'], 'out');
      const seed = num(v['seed'], 'seed', 1)!;
      if (v['fields'] !== undefined) {
        const n = count(v['fields'], 'fields')!;
        refuseUnused(v, ['per-class', 'size'], 'with --fields (fields are 640x480 with 3-6 white cells each)');
        await mkdir(out, { recursive: true });
        const boxes: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const f = synthField({ seed: seed * 1000 + i });
          const name = `field_${String(i).padStart(4, '0')}.png`;
          await writeFile(path.join(out, name), await encodePng(f.image));
          boxes[name] = f.cells;
        }
        await writeFile(path.join(out, 'boxes.json'), JSON.stringify(boxes, null, 1));
        process.stdout.write(JSON.stringify({ out, fields: n }) + '\n');
        return;
      }
      const perClass = count(v['per-class'], 'per-class');
      if (perClass === undefined) throw new UsageError('--per-class N (N >= 1) is required');
      const r = await writeSynthDataset(out, { perClass, seed, size: count(v['size'], 'size') ?? 64 });
      process.stdout.write(JSON.stringify({ out, images: r.count, manifest: r.manifest, classes: SYNTH_CLASSES }) + '\n');
    },
  },
  detect: {
    summary: 'detect white cells on smear field images (JSON boxes); --bccd DIR measures recall at IoU 0.5',
    usage: 'rcmnet detect FIELD... [--model DIR] [--crops DIR [--crop-size 64]]\n' +
      '       rcmnet detect --bccd DIR\n' +
      '       rcmnet detect --synthetic N [--seed 0] [--model DIR]   (fields of seeds S..S+N-1; --model classifies the matched cells)',
    options: { bccd: { type: 'string' }, synthetic: { type: 'string' }, crops: { type: 'string' }, 'crop-size': { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' } },
    async run(v, files) {
      if (v['bccd'] !== undefined && v['synthetic'] !== undefined) throw new UsageError('give --bccd DIR or --synthetic N, not both');
      if (v['bccd'] !== undefined || v['synthetic'] !== undefined) {
        const mode = v['bccd'] !== undefined ? '--bccd' : '--synthetic';
        if (files.length) throw new UsageError(`FIELD images are not used with ${mode} (it measures recall on its own fields)`);
        // BCCD's boxes carry no white-cell class: there is nothing to score a model against.
        refuseUnused(v, mode === '--bccd' ? ['model', 'seed', 'crops', 'crop-size'] : ['crops', 'crop-size'], `with ${mode}`);
        let matched = 0;
        let total = 0;
        let detections = 0;
        let fields = 0;
        let classified = 0;
        let correct = 0;
        if (mode === '--bccd') {
          for (const f of await loadBccd(req(v['bccd'], 'bccd'))) {
            if (!f.wbc.length) continue;
            const d = await detectCells(f.imagePath);
            const r = recallAt(f.wbc, d);
            matched += r.matched;
            total += r.total;
            detections += d.length;
            fields++;
          }
        } else {
          const n = count(v['synthetic'], 'synthetic')!;
          const first = num(v['seed'], 'seed', 0)!;
          // With --model: classify each detected cell that matches a ground-truth cell.
          const model = typeof v['model'] === 'string' ? await load(v['model'], v['backend']) : null;
          for (let s = first; s < first + n; s++) {
            const f = synthField({ seed: s });
            const d = await detectCells(f.image);
            const r = recallAt(f.cells, d);
            matched += r.matched;
            total += r.total;
            detections += d.length;
            fields++;
            if (model && d.length) {
              const preds = await model.predict(await cropCells(f.image, d, model.inputSize), { abstainThreshold: 0 });
              d.forEach((box, i) => {
                const gt = f.cells.find((c) => iou(c, box) >= 0.5);
                if (!gt) return;
                classified++;
                if (preds[i]!.topLabel === gt.label) correct++;
              });
            }
          }
          model?.dispose();
        }
        const classification = classified ? { classified, correct, accuracy: correct / classified } : {};
        process.stdout.write(JSON.stringify({ data: v['bccd'] ?? `synthetic:${String(v['synthetic'])}`, fields, wbc: total, matched, recallAtIoU50: total ? matched / total : null, detections, precisionAtIoU50: detections ? matched / detections : null, ...classification }) + '\n');
        return;
      }
      if (!files.length) throw new UsageError('give FIELD images, --bccd DIR or --synthetic N');
      // Checked before any field is read: a usage error after half the batch is printed is no use.
      refuseUnused(v, ['seed'], 'with FIELD images (--seed picks synthetic fields)');
      if (v['crop-size'] !== undefined && !v['crops']) throw new UsageError('--crop-size is used only with --crops DIR');
      const cropSize = count(v['crop-size'], 'crop-size') ?? 64;
      const stems = cropStems(files);
      const model = typeof v['model'] === 'string' ? await load(v['model'], v['backend']) : null;
      try {
        await eachFile(files, (f, i) => detectField(f, model, v['crops'] ? { dir: v['crops'] as string, size: cropSize, stem: stems[i]! } : null));
      } finally {
        model?.dispose();
      }
    },
  },
  bench: {
    summary: 'training/inference throughput per backend (+ the PyTorch peer when python3-torch is installed)',
    usage:
      'rcmnet bench --size 64|128 --mode train|infer [--batch N] [--steps N] [--rounds 3] [--backends wasm,cpu] [--arch rcmnet] [--width 1]\n' +
      '             [--torch-script PATH|none] [--json]\n\n' +
      `--backends: any of ${BACKEND_ORDER.join(', ')} (default: each that starts here, but cpu); a named one that does not start is reported, and none starting is a failure (exit 1).\n` +
      'Each round times every backend, then the PyTorch peer (../shared/bench/torch_rcmnet.py), so both see the same machine load;\n' +
      'reported: median images/s per backend and the median of the per-round ratios.',
    options: {
      size: { type: 'string' },
      mode: { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      rounds: { type: 'string' },
      backends: { type: 'string' },
      arch: { type: 'string' },
      width: { type: 'string' },
      'torch-script': { type: 'string' },
      json: { type: 'boolean' },
    },
    async run(v) {
      const size = count(v['size'], 'size') ?? 64;
      const mode = (v['mode'] as string | undefined) ?? 'infer';
      if (mode !== 'train' && mode !== 'infer') throw new UsageError('--mode must be train or infer');
      const rounds = count(v['rounds'], 'rounds') ?? 3;
      const arch = (v['arch'] as string | undefined) ?? 'rcmnet';
      if (!(ARCHITECTURES as readonly string[]).includes(arch)) throw new UsageError(`--arch must be one of ${ARCHITECTURES.join(', ')}`);
      const o = { size, mode: mode as 'train' | 'infer', batch: count(v['batch'], 'batch'), steps: count(v['steps'], 'steps'), arch: arch as ArchName, widthMultiplier: num(v['width'], 'width') };
      if (o.widthMultiplier !== undefined && !(o.widthMultiplier > 0 && o.widthMultiplier <= 4)) throw new UsageError(`--width must be in (0, 4], got ${o.widthMultiplier}`);
      const badWidth = widthProblem(o.arch, o.widthMultiplier);
      if (badWidth) throw new UsageError(`--width ${badWidth}`);
      if (v['backends'] !== undefined && v['backend'] !== undefined) throw new UsageError('give --backends a,b or --backend NAME, not both');
      const named = typeof v['backends'] === 'string' ? v['backends'].split(',').map((b) => b.trim()) : typeof v['backend'] === 'string' ? [v['backend']] : null;
      if (named) {
        const unknown = named.filter((b) => !isKnownBackend(b));
        if (unknown.length) throw new UsageError(`unknown backend ${unknown.map((b) => `"${b}"`).join(', ')}; known: ${BACKEND_ORDER.join(', ')}`);
      }
      const { started: backends, failed } = await startBackends(named ?? defaultBenchBackends());
      // Backends asked for by name that do not start are said; the defaults not installed here are not.
      if (!backends.length) {
        throw new Error(`none of the backends ${named ? 'asked for' : 'tried'} started: ${failed.map((f) => `${f.backend}: ${f.reason}`).join('; ')}`);
      }
      if (named) for (const f of failed) process.stderr.write(`rcmnet: backend ${f.backend} skipped: ${f.reason}\n`);
      const print = (x: object, text: string) => process.stdout.write(v['json'] ? JSON.stringify(x) + '\n' : text + '\n');
      const scriptOpt = v['torch-script'] as string | undefined;
      const script = scriptOpt === 'none' ? null : path.resolve(scriptOpt ?? defaultTorchScript());
      // The default peer needs python3-torch; a script named with --torch-script runs as given.
      const withPeer = script !== null && (scriptOpt !== undefined || (await torchAvailable()));
      if (script && !withPeer) process.stderr.write('rcmnet: PyTorch peer skipped (/usr/bin/python3 cannot import torch; apt-get install -y python3-torch)\n');
      for (const b of backends) {
        const prepared = await prepareBench(b, o);
        const own: number[] = [], peers: PeerResult[] = [], ratios: number[] = [];
        try {
          for (let r = 0; r < rounds; r++) {
            own.push(await prepared.time());
            if (withPeer) {
              peers.push(await benchTorch(script!, o));
              ratios.push(own[r]! / peers[r]!.img_per_s);
            }
          }
        } finally {
          prepared.dispose();
        }
        const r = { backend: prepared.backend, mode: o.mode, size: o.size, batch: prepared.batch, imgPerSec: median(own), rounds: own, arch: prepared.arch, params: prepared.params, steps: prepared.steps };
        print(r, `${r.backend.padEnd(10)} ${r.mode} ${r.size}px batch ${r.batch}: ${r.imgPerSec} img/s median of ${rounds} (${r.arch}, ${r.params.toLocaleString('en')} params)`);
        if (!withPeer) continue;
        const p0 = peers[0]!;
        const peer = { ...p0, img_per_s: median(peers.map((p) => p.img_per_s)), rounds: peers.map((p) => p.img_per_s) };
        print(peer, `pytorch    ${peer.mode} ${peer.size}px batch ${peer.batch}: ${peer.img_per_s} img/s median (${peer.peer}, ${peer.threads} threads, ${peer.params.toLocaleString('en')} params)`);
        const ratio = Math.round(median(ratios) * 1000) / 1000;
        print({ ratio, rounds: ratios.map((x) => Math.round(x * 1000) / 1000), backend: r.backend, vs: peer.peer, mode: r.mode, size: r.size, params: r.params, peerParams: peer.params },
          `ratio ${r.backend}/pytorch = ${ratio} (median of per-round ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
      }
    },
  },
  params: {
    summary: 'parameter counts of the four architectures at full width',
    usage: 'rcmnet params [--size 224] [--classes 8] [--json]',
    options: { size: { type: 'string' }, classes: { type: 'string' }, json: { type: 'boolean' } },
    async run(v) {
      const inputSize = count(v['size'], 'size') ?? 224;
      const numClasses = count(v['classes'], 'classes') ?? 8;
      await initBackend({ backend: v['backend'] as string | undefined, quiet: true });
      for (const arch of ARCHITECTURES) {
        const net = new Network(archConfig(arch, { inputSize, numClasses }));
        const r = { arch, params: net.params.countLearnable() };
        net.dispose();
        process.stdout.write(v['json'] ? JSON.stringify(r) + '\n' : `${arch.padEnd(14)} ${r.params.toLocaleString('en')}\n`);
      }
    },
  },
};

function mainHelp(): string {
  return `rcmnet — RCMNet (ResNet18 + CBAM + MHSA) for blood-cell images, TensorFlow.js

usage: rcmnet <command> [options]   (rcmnet <command> --help for details)

${Object.entries(commands)
  .map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`)
  .join('\n')}

Common options: --backend NAME (or RCMNET_BACKEND): tensorflow, native, wasm, cpu.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 1;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`rcmnet: unknown command "${name}"\n\n${mainHelp()}`);
    return 1;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...common, ...cmd.options }, allowPositionals: true, strict: true });
    if (values['help']) {
      process.stdout.write(`${cmd.summary}\n\nusage: ${cmd.usage}\n`);
      return 0;
    }
    // A misspelt name is a usage mistake (64); a known one that cannot start here is a failure (1).
    const backend = values['backend'];
    if (typeof backend === 'string' && !isKnownBackend(backend)) throw new UsageError(`--backend: unknown backend "${backend}"; known: ${BACKEND_ORDER.join(', ')}`);
    await cmd.run(values as Record<string, string | boolean | undefined>, positionals);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // OptionError: the library's own option checks (checkTrainOptions, a threshold), usage mistakes
    // too. Not every RangeError: one from inside tfjs (a tensor too large) is a failure, exit 1.
    if (e instanceof UsageError || e instanceof OptionError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`rcmnet ${name}: ${(e as Error).message}\nusage: ${cmd.usage}\n`);
      return 64;
    }
    if (e instanceof TrainingCancelled) {
      process.stderr.write(`rcmnet ${name}: cancelled before training started; nothing new was saved (an earlier run's checkpoint, if any, is kept)\n`);
      return 130;
    }
    process.stderr.write(`rcmnet ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
