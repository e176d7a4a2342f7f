/** CLI smoke tests through the real bin (tsx loader, argument parsing, exit codes). */
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cropStems } from './cli.js';
import { encodePng } from './image.js';
import { SYNTH_CLASSES, synthCell, synthField } from './synth.js';
import { tempDir } from './testing.js';

const exec = promisify(execFile);
const packageRoot = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(packageRoot, '../..');
const bin = path.join(packageRoot, 'bin/rcmnet.js');

async function rcmnet(args: string[], cwd = packageRoot): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('rcmnet CLI', () => {
  it('prints help for the tool and each command', async () => {
    const top = await rcmnet(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['train', 'eval', 'predict', 'explain', 'synth', 'bench', 'detect']) expect(top.stdout).toContain(c);
    const t = await rcmnet(['train', '--help']);
    expect(t.stdout).toContain('--from MODEL --labels');
  });

  it('is reachable as `npx rcmnet` from the repository root', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'rcmnet', 'synth', '--help'], { cwd: repoRoot });
    expect(stdout).toContain('--per-class');
  });

  it('answers usage errors with exit code 64 and the usage line', async () => {
    const r = await rcmnet(['train', '--data', dir, '--out', dir, '--epochs', 'many']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--epochs must be a number/);
    const ema = await rcmnet(['train', '--data', dir, '--out', dir, '--ema', '1']);
    expect(ema.code).toBe(64);
    expect(ema.stderr).toMatch(/--ema must be a decay between 0 and 1/);
    // Numbers that parse but mean nothing: refused before any data is read, never a silent "success".
    const zeroBatch = await rcmnet(['train', '--data', dir, '--out', dir, '--batch', '0']);
    expect(zeroBatch.code).toBe(64);
    expect(zeroBatch.stderr).toMatch(/--batch \(batchSize\) must be an integer >= 1, got 0/);
    const noCap = await rcmnet(['eval', '--model', dir, '--data', dir, '--max-per-class', '0']);
    expect(noCap.code).toBe(64);
    expect(noCap.stderr).toMatch(/--max-per-class must be a whole number >= 1/);
    for (const [args, message] of [
      [['predict', '--model', dir, '--abstain', '50', 'x.png'], /--abstain must be between 0 and 1/],
      [['synth', '--out', path.join(dir, 'never'), '--fields=-3'], /--fields must be a whole number >= 1/],
      [['detect', '--synthetic=-5'], /--synthetic must be a whole number >= 1/],
      [['bench', '--arch', 'foo'], /--arch must be one of/],
      [['bench', '--steps', '0'], /--steps must be a whole number >= 1/],
      // Counts and sizes: a fraction or 0 is a mistake, refused before anything is built or written.
      [['bench', '--rounds', '1.5'], /--rounds must be a whole number >= 1, got "1.5"/],
      [['bench', '--size', '0'], /--size must be a whole number >= 1, got "0"/],
      [['params', '--size', '0'], /--size must be a whole number >= 1, got "0"/],
      [['params', '--classes', '0'], /--classes must be a whole number >= 1, got "0"/],
      [['params', '--classes', '2.5'], /--classes must be a whole number >= 1, got "2.5"/],
      [['synth', '--out', path.join(dir, 'never'), '--per-class', '1.5'], /--per-class must be a whole number >= 1, got "1.5"/],
      [['synth', '--out', path.join(dir, 'never'), '--per-class', '2', '--size', '0'], /--size must be a whole number >= 1, got "0"/],
      // An empty value (an unset shell variable) is not 0: a threshold of 0 never abstains.
      [['predict', '--model', dir, '--abstain=', 'x.png'], /--abstain must be a number, got ""/],
      [['train', '--data', dir, '--out', dir, '--from', dir, '--arch', 'resnet18'], /--arch describes a new network; with --from the network is the base model's/],
      // --size with --from trained at the base's size after one stderr line: refused like --arch.
      [['train', '--data', dir, '--out', dir, '--from', 'm', '--size', '128'], /--size describes a new network; with --from the network is the base model's, which trains at its own input size/],
      [['train', '--data', dir, '--out', dir, '--seed', ' '], /--seed must be a number, got " "/],
      // train()'s own checks name the flag, not only the option key.
      [['train', '--data', dir, '--out', dir, '--width', '5'], /--width \(widthMultiplier\) must be in \(0, 4\], got 5/],
      // Only transfer learning has a frozen-backbone phase: without --from it was silently ignored.
      [['train', '--data', dir, '--out', dir, '--head-epochs', '5'], /--head-epochs \(headEpochs\) applies to transfer learning only/],
      // Checked before the model is loaded and Grad-CAM computed (here there is no model at all).
      [['explain', '--model', path.join(dir, 'no-model'), 'x.png'], /--out is required/],
      // A misspelt backend is a usage mistake, never a silent "nothing measured" with exit 0.
      [['bench', '--backends', 'nativ', '--torch-script', 'none'], /unknown backend "nativ"; known: tensorflow-gpu, tensorflow, native, wasm, cpu/],
      [['bench', '--backend', 'bogus', '--torch-script', 'none'], /unknown backend "bogus"; known: tensorflow-gpu, tensorflow, native, wasm, cpu/],
      [['predict', '--backend', 'bogus', '--model', dir, 'x.png'], /--backend: unknown backend "bogus"/],
      // A width the 4 attention heads cannot split: named, before any data is read.
      [['train', '--data', dir, '--out', path.join(dir, 'never'), '--width', '0.3'], /--width \(widthMultiplier\) 0.3 gives rcmnet a last-stage width of 154 .*not divisible by its 4 attention heads/],
      [['bench', '--width', '0.3', '--torch-script', 'none'], /--width 0.3 gives rcmnet a last-stage width of 154/],
      // Flags a mode does not use are refused, not silently ignored.
      [['synth', '--out', path.join(dir, 'never'), '--fields', '1', '--size', '32', '--per-class', '3'], /--per-class, --size are not used with --fields/],
      [['detect', '--bccd', path.join(dir, 'never'), '--model', dir], /--model is not used with --bccd/],
      [['detect', '--synthetic', '1', '--crops', path.join(dir, 'never')], /--crops is not used with --synthetic/],
      [['detect', 'x.png', '--seed', '3'], /--seed is not used with FIELD images/],
      [['detect', 'x.png', '--crop-size', '32'], /--crop-size is used only with --crops/],
    ] as const) {
      const bad = await rcmnet([...args]);
      expect(bad.code, args.join(' ')).toBe(64);
      expect(bad.stderr).toMatch(message);
    }
    expect((await rcmnet(['frobnicate'])).code).toBe(1);
    // None of the refusals above left the folder a run or a synth would have written.
    await expect(stat(path.join(dir, 'never'))).rejects.toThrow(/ENOENT/);
    // resnet18 has no attention heads: any width builds it (here the missing data is what fails).
    const plain = await rcmnet(['train', '--data', path.join(dir, 'no-data'), '--out', path.join(dir, 'never'), '--arch', 'resnet18', '--width', '0.3']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/Dataset not found/);
    // Help names the flags each mode takes.
    expect((await rcmnet(['detect', '--help'])).stdout).toContain('--synthetic N [--seed 0]');
    expect((await rcmnet(['bench', '--help'])).stdout).toContain('[--width 1]');
  });

  it('detect --bccd on a folder that is not BCCD says so', async () => {
    const r = await rcmnet(['detect', '--bccd', path.join(dir, 'nothing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`rcmnet detect: ${path.join(dir, 'nothing')}: not a BCCD folder (Annotations/ missing)\n`);
  });

  // A known backend that is not installed here: tfjs-node's, when its optional package is absent.
  const installed = (m: string) => {
    try {
      createRequire(import.meta.url).resolve(m);
      return true;
    } catch {
      return false;
    }
  };
  const absent = !installed('@tensorflow/tfjs-node') ? 'tensorflow' : !installed('@tensorflow/tfjs-node-gpu') ? 'tensorflow-gpu' : undefined;
  it.skipIf(!absent)('bench fails (exit 1, with the reason) when none of the backends asked for starts', async () => {
    const r = await rcmnet(['bench', '--backends', absent!, '--torch-script', 'none', '--size', '16', '--width', '0.25']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`none of the backends asked for started: ${absent}: not available here`));
    // One that starts beside it: measured, and the other said on stderr.
    const some = await rcmnet(['bench', '--backends', `${absent},cpu`, '--torch-script', 'none', '--size', '16', '--width', '0.25', '--batch', '2', '--steps', '1', '--rounds', '1', '--json']);
    expect(some.code, some.stderr).toBe(0);
    expect(JSON.parse(some.stdout)).toMatchObject({ backend: 'cpu' });
    expect(some.stderr).toMatch(new RegExp(`backend ${absent} skipped: not available here`));
  });

  it('answers a RangeError from inside the work (not an option check) with exit 1 and no usage line', async () => {
    // An input tensor of 8e13 floats: tfjs throws "Invalid typed array length" before allocating.
    const r = await rcmnet(['bench', '--size', '16384', '--batch', '100000', '--steps', '1', '--rounds', '1', '--backends', 'cpu', '--torch-script', 'none', '--width', '0.25']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rcmnet bench: Invalid typed array length/);
    expect(r.stderr).not.toMatch(/usage:/);
  });

  it('synth -> train (tiny) -> predict -> explain -> eval', async () => {
    const data = path.join(dir, 'data');
    const model = path.join(dir, 'model');
    const s = await rcmnet(['synth', '--out', data, '--per-class', '8', '--size', '32', '--seed', '2']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ images: 40 });
    expect((await readdir(path.join(data, 'train'))).sort()).toEqual(['car_t', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil']);

    const t = await rcmnet(['train', '--data', data, '--out', model, '--size', '32', '--width', '0.25', '--epochs', '1', '--batch', '16']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/epoch 1\/1 .*img\/s .*loss .*acc .*ETA/);
    expect(t.stderr).toMatch(/decoding \[#+\] 40\/40 images/);
    expect(JSON.parse(t.stdout.trim().split('\n').pop()!)).toMatchObject({ modelDir: model, epochs: 1 });
    // A fresh run over a finished model is refused: its old weights would pass for the new run's.
    const over = await rcmnet(['train', '--data', data, '--out', model, '--size', '32', '--width', '0.25', '--epochs', '1']);
    expect(over.code).toBe(64);
    expect(over.stderr).toMatch(/already holds a model: continue its run with --resume, or train into another --out/);

    const img = path.join(data, 'val/car_t', (await readdir(path.join(data, 'val/car_t')))[0]!);
    const p = await rcmnet(['predict', '--model', model, img, path.join(dir, 'missing.png')]);
    expect(p.code).toBe(2); // one unreadable file
    const lines = p.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toHaveProperty('probabilities');
    expect(lines[1]).toMatchObject({ code: 'UNREADABLE' });
    // 1/K (5 classes): a threshold under which no cell could ever be left for review.
    const never = await rcmnet(['predict', '--model', model, '--abstain', '0.2', img]);
    expect(never.code).toBe(64);
    expect(never.stderr).toMatch(/--abstain 0\.2 never abstains with 5 classes/);

    const png = path.join(dir, 'cam.png');
    expect((await rcmnet(['explain', '--model', model, img, '--out', png])).code).toBe(0);
    expect((await stat(png)).size).toBeGreaterThan(100);

    const e = await rcmnet(['eval', '--model', model, '--data', data, '--json']);
    // Progress on stderr only: stdout stays one JSON document. Decoding has a line of its own: it
    // was silent, and its time went into the eval line's rate.
    expect(e.stderr).toMatch(/decoding \[#+\] \d+\/\d+ images .*ETA/);
    expect(e.stderr).toMatch(/eval \[#+\] \d+\/\d+ images .*ETA/);
    expect(Object.keys(JSON.parse(e.stdout) as object)).toEqual(expect.arrayContaining(['top1', 'balancedAccuracy', 'macroF1', 'perClass', 'confusion', 'ece']));
    const tta = await rcmnet(['eval', '--model', model, '--data', data, '--tta']);
    expect(tta.code, tta.stderr).toBe(0);
    expect(tta.stdout).toMatch(/^val \(8-view TTA\): n=\d+ top1 /);
    // Two --model: an ensemble. A model averaged with itself scores as itself.
    const twice = await rcmnet(['eval', '--model', model, '--model', model, '--data', data]);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toContain(`ensemble of 2: ${model}, ${model}`);
    const singleOut = (await rcmnet(['eval', '--model', model, '--data', data])).stdout;
    const single = singleOut.match(/top1 \S+/)![0];
    expect(twice.stdout).toContain(single);
    expect((await rcmnet(['eval', '--data', data])).code).toBe(64);

    // `train --from M --labels a,b --data full.csv` then eval on full.csv: the data has classes
    // the model was not trained on (here one more, basophil, in val).
    await mkdir(path.join(data, 'extra'), { recursive: true });
    const extra = ['b1.png', 'b2.png'];
    for (const f of extra) await copyFile(img, path.join(data, 'extra', f));
    const full = path.join(data, 'full.csv');
    await writeFile(full, (await readFile(path.join(data, 'manifest.csv'), 'utf8')) + extra.map((f) => `val,basophil,extra/${f}\n`).join(''));
    const refused = await rcmnet(['eval', '--model', model, '--data', full]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/does not know: basophil .*--labels/);
    const labels = 'car_t,eosinophil,lymphocyte,monocyte,neutrophil';
    const own = await rcmnet(['eval', '--model', model, '--data', full, '--labels', labels]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain('val: left out 2 images of label(s) not in --labels: basophil (2)');
    // The same images as the model's own data: the same figures, in-sample note included.
    expect(own.stdout).toContain(singleOut);
    const ownJson = await rcmnet(['eval', '--model', model, '--data', full, '--labels', labels, '--json']);
    expect(JSON.parse(ownJson.stdout)).toMatchObject({ leftOut: { basophil: 2 } });
  });

  // The model the test above trained (5 synthetic classes, 32 px), on data with splits of its own.
  const trained = () => path.join(dir, 'model');

  it('eval scores every image of labelled folders with no split of their own (not the val part a hash made up)', async () => {
    const folder = path.join(dir, 'labelled');
    for (const [c, label] of SYNTH_CLASSES.entries()) {
      await mkdir(path.join(folder, label), { recursive: true });
      for (let i = 0; i < 4; i++) await writeFile(path.join(folder, label, `${label}_${i}.png`), await encodePng(synthCell(label, 32, 100 + 10 * c + i)));
    }
    const all = await rcmnet(['eval', '--model', trained(), '--data', folder]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^all: n=20 top1 /);
    expect(all.stderr).toContain('scoring all 20 images: the data has no split of its own');
    expect(all.stdout).not.toMatch(/trained on|optimistic/);
    const json = JSON.parse((await rcmnet(['eval', '--model', trained(), '--data', folder, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ split: 'all', count: 20, splitsAssigned: true, inSample: false });
    expect((await rcmnet(['eval', '--model', trained(), '--data', folder, '--split', 'all', '--max-per-class', '3'])).stdout).toMatch(/^all: n=15 /);
    // There is no test part to score: said, not "No samples".
    const test = await rcmnet(['eval', '--model', trained(), '--data', folder, '--split', 'test']);
    expect(test.code).toBe(64);
    expect(test.stderr).toMatch(/split "test": .*labelled has no split of its own, so no test part .*split "all"/);
    // Asked for, the hash's val part is still scored, and said to be one.
    const val = await rcmnet(['eval', '--model', trained(), '--data', folder, '--split', 'val']);
    expect(val.code, val.stderr).toBe(0);
    expect(val.stdout).toMatch(/^val: n=\d+ /);
    expect(val.stdout).not.toMatch(/^val: n=20 /);
    expect(val.stderr).toMatch(/val: the \d+ images a hash of their names put in val \(the data has no split of its own\); --split all scores every image/);
    // On the folder a model was trained on, the hash's val part is what its training held out: still the default.
    const own = path.join(dir, 'model-of-folder');
    await cp(trained(), own, { recursive: true });
    const cardPath = path.join(own, 'model-card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { data: Record<string, unknown> };
    await writeFile(cardPath, JSON.stringify({ ...card, data: { ...card.data, source: folder, snapshotId: 'other' } }));
    const held = await rcmnet(['eval', '--model', own, '--data', folder]);
    expect(held.stdout).toMatch(/^val: n=\d+ /);
    expect(held.stderr).toMatch(/the part this model's training held out/);
    const whole = await rcmnet(['eval', '--model', own, '--data', folder, '--split', 'all', '--json']);
    expect(JSON.parse(whole.stdout)).toMatchObject({ split: 'all', count: 20, inSample: true });
    // Data with splits of its own (a manifest) is scored as before: its val part, no note.
    const manifest = await rcmnet(['eval', '--model', trained(), '--data', path.join(dir, 'data', 'manifest.csv')]);
    expect(manifest.stdout).toMatch(/^val: n=\d+ /);
    expect(manifest.stderr).not.toMatch(/no split of its own/);
  });

  it('predict, eval and explain warn once about a model from an unfinished run', async () => {
    const img = path.join(dir, 'data/val/car_t', (await readdir(path.join(dir, 'data/val/car_t')))[0]!);
    // The finished run's card says so, and nothing is said about it.
    expect((JSON.parse(await readFile(path.join(trained(), 'model-card.json'), 'utf8')) as { training: { complete: unknown } }).training.complete).toBe(true);
    const fine = await rcmnet(['predict', '--model', trained(), img]);
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stderr).not.toMatch(/unfinished/);
    // The card saved at the end of epoch 1 of 30 (a run killed, or still training), as train writes it.
    const half = path.join(dir, 'half-trained');
    await cp(trained(), half, { recursive: true });
    const cardPath = path.join(half, 'model-card.json');
    const card = JSON.parse(await readFile(cardPath, 'utf8')) as { training: Record<string, unknown> };
    await writeFile(cardPath, JSON.stringify({ ...card, training: { ...card.training, epochs: 30, epochsRun: 1, bestEpoch: 1, complete: false }, calibration: { temperature: 1, fittedOn: 'none' } }));
    const warning = `rcmnet: warning: model ${half} is from an unfinished run: epoch 1 of 30, not calibrated`;
    const p = await rcmnet(['predict', '--model', half, img]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr.split(warning)).toHaveLength(2);
    const e = await rcmnet(['eval', '--model', half, '--model', half, '--data', path.join(dir, 'data'), '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr.split(warning)).toHaveLength(2);
    expect(JSON.parse(e.stdout)).toMatchObject({ unfinished: [{ model: half, epochsRun: 1, epochs: 30, calibrated: false }, { model: half }] });
    expect(JSON.parse((await rcmnet(['eval', '--model', trained(), '--data', path.join(dir, 'data'), '--json'])).stdout)).not.toHaveProperty('unfinished');
    const x = await rcmnet(['explain', '--model', half, img, '--out', path.join(dir, 'half.png')]);
    expect(x.code, x.stderr).toBe(0);
    expect(x.stderr).toContain(warning);
    // A label the model does not have: a usage error, found in the card before anything is decoded.
    const nope = await rcmnet(['explain', '--model', trained(), img, '--out', path.join(dir, 'nope.png'), '--label', 'nope']);
    expect(nope.code).toBe(64);
    expect(nope.stderr).toMatch(/--label nope is not one of the model's labels: car_t, eosinophil, lymphocyte, monocyte, neutrophil/);
  });

  it('names each field\'s crops apart from every other field\'s, case-folded, keeping the names that clash with none', () => {
    const folded = (names: string[]) => new Set(names.map((n) => n.toLowerCase())).size;
    // Two fields named f, and a third whose own name is what the second would be given.
    const three = cropStems(['a/f.png', 'b/f.png', 'c/f_field1.png']);
    expect(folded(three)).toBe(3);
    expect(three).toEqual(['f_field0', 'f_field1_2', 'f_field1']);
    // One name to a case-insensitive disk (macOS, Windows).
    const cased = cropStems(['x/F.png', 'y/f.png']);
    expect(folded(cased)).toBe(2);
    expect(cased).toEqual(['F_field0', 'f_field1']);
    // Names of their own stay as they were; the same list gives the same names.
    expect(cropStems(['a/f.png', 'b/g.jpg', 'c/F_field0.png'])).toEqual(['f', 'g', 'F_field0']);
    expect(cropStems(['a/f.png', 'b/f.png', 'c/f_field1.png'])).toEqual(three);
  });

  it('detect --crops gives the crops of fields with one file name in two folders names of their own', async () => {
    // The third field's own name is what the second would be given were only repeats renamed.
    const fields = [...['a', 'b'].map((d) => path.join(dir, 'same-name', d, 'f.png')), path.join(dir, 'same-name', 'c', 'f_field1.png')];
    for (const [i, f] of fields.entries()) {
      await mkdir(path.dirname(f), { recursive: true });
      await writeFile(f, await encodePng(synthField({ seed: 20 + i }).image));
    }
    const crops = path.join(dir, 'same-name-crops');
    const r = await rcmnet(['detect', ...fields, '--crops', crops, '--crop-size', '32']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { boxes: unknown[]; crops: string[] });
    const written = lines.flatMap((l) => l.crops);
    expect(lines.map((l) => l.crops.length)).toEqual(lines.map((l) => l.boxes.length));
    expect(new Set(written).size).toBe(written.length);
    expect((await readdir(crops)).sort()).toEqual(written.map((p) => path.basename(p)).sort());
    expect(written[0]).toBe(path.join(crops, 'f_field0_cell0.png'));
    // Names that do not clash stay as they were.
    const single = await rcmnet(['detect', fields[0]!, '--crops', path.join(dir, 'single-crops')]);
    expect((JSON.parse(single.stdout) as { crops: string[] }).crops[0]).toBe(path.join(dir, 'single-crops', 'f_cell0.png'));
  });

  it('detect reports a field it cannot read on its own line, goes on with the others and exits 2', async () => {
    const field = path.join(dir, 'field.png');
    await writeFile(field, await encodePng(synthField({ seed: 4 }).image));
    const notImage = path.join(dir, 'field.txt');
    await writeFile(notImage, 'not an image');
    const r = await rcmnet(['detect', path.join(dir, 'missing-field.png'), notImage, field]);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ image: path.join(dir, 'missing-field.png'), code: 'UNREADABLE' });
    expect(lines[1]).toMatchObject({ image: notImage, code: 'NOT_AN_IMAGE' });
    expect(lines[2]).toMatchObject({ image: field });
    expect((lines[2]!['boxes'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('bench interleaves rounds of the backend and the peer script and reports medians', async () => {
    const peer = path.join(dir, 'peer.py');
    await writeFile(peer, 'import json, sys\nprint(json.dumps({"peer": "fake", "threads": 2, "mode": sys.argv[3], "size": int(sys.argv[1]), "batch": int(sys.argv[2]), "img_per_s": 10.0, "params": 1}))\n');
    const args = ['bench', '--size', '32', '--mode', 'infer', '--batch', '2', '--steps', '1', '--width', '0.25', '--backends', 'wasm', '--torch-script', peer, '--json'];
    const r = await rcmnet([...args, '--rounds', '2']);
    expect(r.code).toBe(0);
    const [own, p, ratio] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(own).toMatchObject({ backend: 'wasm', mode: 'infer', size: 32, batch: 2 });
    expect(own!['rounds']).toHaveLength(2);
    expect(p).toMatchObject({ peer: 'fake', img_per_s: 10, rounds: [10, 10] });
    expect(ratio!['ratio']).toBeCloseTo((own!['imgPerSec'] as number) / 10, 2);
    expect((await rcmnet([...args, '--rounds', '0'])).code).toBe(64);
  });

  it('train stopped by Ctrl-C exits 130, not 0: the folder is not a finished model', async () => {
    const data = path.join(dir, 'data-int');
    expect((await rcmnet(['synth', '--out', data, '--per-class', '8', '--size', '32', '--seed', '3'])).code).toBe(0);
    const child = spawn(process.execPath, [bin, 'train', '--data', data, '--out', path.join(dir, 'interrupted'), '--size', '32', '--width', '0.25', '--epochs', '50', '--batch', '4'], { cwd: packageRoot });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/step \d+\//.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/stopping after this step/);
    expect(code).toBe(130);
  }, 120_000);
});
