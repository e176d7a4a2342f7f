/** CLI smoke tests through the real bin (tsx loader, argument parsing, exit codes). */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from './image.js';
import { synthField } from './synth.js';
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
      [['train', '--data', dir, '--out', dir, '--seed', ' '], /--seed must be a number, got " "/],
      // train()'s own checks name the flag, not only the option key.
      [['train', '--data', dir, '--out', dir, '--width', '5'], /--width \(widthMultiplier\) must be in \(0, 4\], got 5/],
      // Only transfer learning has a frozen-backbone phase: without --from it was silently ignored.
      [['train', '--data', dir, '--out', dir, '--head-epochs', '5'], /--head-epochs \(headEpochs\) applies to transfer learning only/],
      // Checked before the model is loaded and Grad-CAM computed (here there is no model at all).
      [['explain', '--model', path.join(dir, 'no-model'), 'x.png'], /--out is required/],
    ] as const) {
      const bad = await rcmnet([...args]);
      expect(bad.code, args.join(' ')).toBe(64);
      expect(bad.stderr).toMatch(message);
    }
    expect((await rcmnet(['frobnicate'])).code).toBe(1);
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
