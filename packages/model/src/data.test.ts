import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBccd, loadDataset, type Dataset } from './data.js';

// Manifests only: loadDataset lists samples, it does not open images.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rcmnet-data-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function manifest(name: string, header: string, rows: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, [header, ...rows].join('\n') + '\n');
  return file;
}

describe('loadDataset splits', () => {
  it('keeps the val part a manifest names', async () => {
    const ds = await loadDataset(await manifest('named.csv', 'split,label,path', ['train,a,1.png', 'train,b,2.png', 'val,a,3.png', 'val,b,4.png', 'test,a,5.png']));
    expect(ds.train.map((s) => path.basename(s.path))).toEqual(['1.png', '2.png']);
    expect(ds.val.map((s) => path.basename(s.path))).toEqual(['3.png', '4.png']);
    expect(ds.test).toHaveLength(1);
  });

  it('with labels, counts the images of the other labels per split (capped as the kept ones are)', async () => {
    const rows = ['train,a,1.png', 'train,b,2.png', 'val,a,3.png', 'val,b,4.png', 'val,c,5.png', 'val,c,6.png', 'val,c,7.png', 'test,c,8.png'];
    const file = await manifest('left-out.csv', 'split,label,path', rows);
    const ds = await loadDataset(file, { labels: ['a', 'b'] });
    expect(ds.val.map((s) => s.label)).toEqual(['a', 'b']);
    expect(ds.leftOut).toEqual({ train: {}, val: { c: 3 }, test: { c: 1 } });
    expect((await loadDataset(file, { labels: ['a', 'b'], maxPerClass: 2 })).leftOut?.val).toEqual({ c: 2 });
    // Unfiltered, nothing is left out and the dataset says nothing of it.
    expect(await loadDataset(file)).not.toHaveProperty('leftOut');
  });

  it('carves val out of train when the manifest names train and test only, and never touches test', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `train,${i % 2 ? 'a' : 'b'},t${i}.png`);
    const file = await manifest('no-val.csv', 'split,label,path', [...rows, 'test,a,x.png', 'test,b,y.png']);
    const ds = await loadDataset(file);
    expect(ds.val.length).toBeGreaterThan(20);
    expect(ds.val.length).toBeLessThan(60);
    expect(ds.train.length + ds.val.length).toBe(200);
    expect(ds.test.map((s) => path.basename(s.path))).toEqual(['x.png', 'y.png']);
    // Deterministic: the same data gives the same split and snapshot id.
    const again = await loadDataset(file);
    expect(again.val).toEqual(ds.val);
    expect(again.snapshotId).toBe(ds.snapshotId);
  });

  it('sends all images of one group (patient, slide, field) to the same split', async () => {
    // 40 smear fields of 10 crops each, no split column: a field is never cut in two.
    const rows = Array.from({ length: 400 }, (_, i) => `${i % 3 ? 'a' : 'b'},field${Math.floor(i / 10)}_cell${i % 10}.png,field${Math.floor(i / 10)}`);
    const ds = await loadDataset(await manifest('groups.csv', 'label,path,group', rows));
    const fieldOf = (p: string) => path.basename(p).split('_')[0]!;
    const trainFields = new Set(ds.train.map((s) => fieldOf(s.path)));
    const valFields = new Set(ds.val.map((s) => fieldOf(s.path)));
    expect(valFields.size).toBeGreaterThan(0);
    expect(trainFields.size).toBeGreaterThan(0);
    expect([...valFields].filter((f) => trainFields.has(f))).toEqual([]);
    expect(ds.val.length % 10).toBe(0);
  });

  it('refuses a group that explicit splits put in two parts (a patient in train and in test)', async () => {
    const crossed = await manifest('crossed.csv', 'split,label,path,group', ['train,a,1.png,P1', 'val,b,2.png,P2', 'test,a,3.png,P1', 'test,b,4.png,P3']);
    await expect(loadDataset(crossed)).rejects.toThrow(/group "P1" is in both train and test/);
    // A group with a test row and rows without a split: those would be hashed into train or val.
    const blank = await manifest('blank.csv', 'split,label,path,group', ['train,a,1.png,P2', 'val,b,2.png,P5', 'test,a,3.png,P1', ',a,4.png,P1', 'test,b,5.png,P3', 'train,b,6.png,P4']);
    await expect(loadDataset(blank)).rejects.toThrow(/group "P1" is in both test and (train|val)/);
  });
});

describe('loadDataset identifies a snapshot by the dataset folder\'s own paths', () => {
  it('gives one snapshot id and one --max-per-class subset however the data is named or wherever it sits', async () => {
    const ds = path.join(dir, 'spelled');
    await mkdir(ds, { recursive: true });
    const rows = Array.from({ length: 120 }, (_, i) => `${i % 5 ? 'train' : 'val'},${i % 2 ? 'a' : 'b'},img/${i}.png`);
    await writeFile(path.join(ds, 'manifest.csv'), ['split,label,path', ...rows].join('\n') + '\n');
    const moved = path.join(dir, 'another-machine', 'data', 'spelled-copy');
    await cp(ds, moved, { recursive: true });
    const spellings = [ds, path.join(ds, 'manifest.csv'), path.relative(process.cwd(), ds), `${ds}/`, moved, path.join(moved, 'manifest.csv')];
    const names = (d: Dataset) => (['train', 'val', 'test'] as const).map((s) => d[s].map((x) => `${x.label}/${path.basename(x.path)}`).sort().join(' '));
    const full = await Promise.all(spellings.map((s) => loadDataset(s)));
    const capped = await Promise.all(spellings.map((s) => loadDataset(s, { maxPerClass: 5 })));
    expect(new Set(full.map((d) => d.snapshotId)).size).toBe(1);
    expect(new Set(capped.map((d) => d.snapshotId)).size).toBe(1);
    for (const d of capped) expect(names(d)).toEqual(names(capped[0]!));
    expect(capped[0]!.train).toHaveLength(10);
    expect(capped[0]!.snapshotId).not.toBe(full[0]!.snapshotId);
  });
});

describe('loadDataset refuses what it would get wrong', () => {
  it('reports the errors of a folder\'s manifest.csv instead of falling back to its class folders', async () => {
    const ds = path.join(dir, 'with-folders');
    await mkdir(path.join(ds, 'a'), { recursive: true });
    await writeFile(path.join(ds, 'a', '1.png'), 'x');
    await writeFile(path.join(ds, 'manifest.csv'), 'split,class,path\ntest,a,a/1.png\n');
    await expect(loadDataset(ds)).rejects.toThrow(/manifest\.csv: manifest needs a header with at least "label" and "path"/);
  });

  it('takes an empty split cell as no split, and refuses an image listed twice, naming the line', async () => {
    const blank = await loadDataset(await manifest('blank-split.csv', 'split,label,path', [',a,1.png', ',b,2.png', 'test,a,3.png']));
    expect(blank.train.length + blank.val.length).toBe(2);
    const inTest = await manifest('twice.csv', 'split,label,path', ['train,a,1.png', 'train,b,2.png', 'test,a,1.png']);
    await expect(loadDataset(inTest)).rejects.toThrow(/twice\.csv:4: 1\.png is listed again \(first on line 2\)/);
    const relabelled = await manifest('relabelled.csv', 'split,label,path', ['train,a,1.png', 'train,b,1.png']);
    await expect(loadDataset(relabelled)).rejects.toThrow(/relabelled\.csv:3: 1\.png is listed again \(first on line 2, as a\)/);
    // Train and val may share images: a set with no val part of its own is validated on train.
    const shared = await loadDataset(await manifest('shared.csv', 'split,label,path', ['train,a,1.png', 'val,a,1.png', 'train,b,2.png', 'val,b,2.png']));
    expect([shared.train.length, shared.val.length]).toEqual([2, 2]);
  });

  it('refuses a third listing in a split the image is already in (train, val, val), naming both lines', async () => {
    const third = await manifest('third.csv', 'split,label,path', ['train,a,x.png', 'val,a,x.png', 'train,b,2.png', 'val,a,x.png']);
    await expect(loadDataset(third)).rejects.toThrow(/third\.csv:5: x\.png is listed again \(already in val on line 3\)$/);
    const trainAgain = await manifest('third-train.csv', 'split,label,path', ['val,a,x.png', 'train,a,x.png', 'train,b,2.png', 'train,a,x.png']);
    await expect(loadDataset(trainAgain)).rejects.toThrow(/third-train\.csv:5: x\.png is listed again \(already in train on line 3\)$/);
  });

  it('skips the AppleDouble files macOS leaves in class folders (._x.png)', async () => {
    const ds = path.join(dir, 'apple-double');
    for (const label of ['a', 'b']) {
      await mkdir(path.join(ds, label), { recursive: true });
      await writeFile(path.join(ds, label, `${label}1.png`), 'x');
      await writeFile(path.join(ds, label, `._${label}1.png`), '\0\x05\x16\x07 resource fork');
    }
    const loaded = await loadDataset(ds, { valFraction: 0 });
    expect(loaded.train.map((s) => path.basename(s.path)).sort()).toEqual(['a1.png', 'b1.png']);
  });

  it('says when the data names no split of its own (the parts were made up by a hash)', async () => {
    const ds = path.join(dir, 'no-splits');
    for (const label of ['a', 'b']) {
      await mkdir(path.join(ds, label), { recursive: true });
      for (let i = 0; i < 10; i++) await writeFile(path.join(ds, label, `${label}${i}.png`), 'x');
    }
    expect((await loadDataset(ds)).splitsAssigned).toBe(true);
    expect((await loadDataset(await manifest('no-split-column.csv', 'label,path', ['a,1.png', 'b,2.png']))).splitsAssigned).toBe(true);
    // Any split named (train only: val carved out of it) is a split of the data's own.
    expect(await loadDataset(await manifest('some-split.csv', 'split,label,path', ['train,a,1.png', 'train,b,2.png', 'test,a,3.png']))).not.toHaveProperty('splitsAssigned');
    const folders = path.join(dir, 'split-folders');
    for (const label of ['a', 'b']) {
      await mkdir(path.join(folders, 'train', label), { recursive: true });
      await writeFile(path.join(folders, 'train', label, `${label}.png`), 'x');
    }
    expect(await loadDataset(folders)).not.toHaveProperty('splitsAssigned');
  });

  it('loadBccd names a folder that is not BCCD as such (not a bare ENOENT)', async () => {
    await expect(loadBccd(path.join(dir, 'nowhere'))).rejects.toThrow(/nowhere: not a BCCD folder \(Annotations\/ missing\)$/);
  });

  it('refuses a folder of images beside the split folders (a valid/ was silently dropped), naming it', async () => {
    const ds = path.join(dir, 'valid-folder');
    for (const split of ['train', 'valid']) {
      for (const label of ['a', 'b']) {
        await mkdir(path.join(ds, split, label), { recursive: true });
        await writeFile(path.join(ds, split, label, `${split}-${label}.png`), 'x');
      }
    }
    // A folder with no images (notes, an export's metadata) is no split anyone meant: still read.
    await mkdir(path.join(ds, 'notes'), { recursive: true });
    await writeFile(path.join(ds, 'notes', 'readme.txt'), 'x');
    await expect(loadDataset(ds)).rejects.toThrow(/valid-folder: valid\/ holds images beside the split folders, but only train\/, val\/ and test\/ are read: rename valid\/ to val\/$/);
    // Any other name too, all named; images directly in it count as well.
    await mkdir(path.join(ds, 'extra'), { recursive: true });
    await writeFile(path.join(ds, 'extra', 'loose.png'), 'x');
    await expect(loadDataset(ds)).rejects.toThrow(/extra\/, valid\/ hold images beside the split folders/);
    await rm(path.join(ds, 'extra'), { recursive: true });
    await cp(path.join(ds, 'valid'), path.join(ds, 'val'), { recursive: true });
    await rm(path.join(ds, 'valid'), { recursive: true });
    const loaded = await loadDataset(ds);
    expect(loaded.val.map((s) => path.basename(s.path))).toEqual(['valid-a.png', 'valid-b.png']);
  });

  // Root reads any folder: the refusal cannot be made there.
  it.skipIf(process.getuid?.() === 0)('reads a dataset beside a folder it may not read (a volume root\'s lost+found)', async () => {
    const ds = path.join(dir, 'volume-root');
    for (const split of ['train', 'val']) {
      await mkdir(path.join(ds, split, 'a'), { recursive: true });
      await writeFile(path.join(ds, split, 'a', `${split}.png`), 'x');
    }
    await mkdir(path.join(ds, 'lost+found'), { mode: 0o000 });
    try {
      const loaded = await loadDataset(ds);
      expect(loaded.val.map((s) => path.basename(s.path))).toEqual(['val.png']);
    } finally {
      await chmod(path.join(ds, 'lost+found'), 0o700);
    }
  });

  it('lists files only from class folders (a folder named like an image is skipped)', async () => {
    const ds = path.join(dir, 'odd-folder');
    await mkdir(path.join(ds, 'a', 'weird.png'), { recursive: true });
    await writeFile(path.join(ds, 'a', '1.png'), 'x');
    await mkdir(path.join(ds, 'b'), { recursive: true });
    await writeFile(path.join(ds, 'b', '2.png'), 'x');
    const loaded = await loadDataset(ds, { valFraction: 0 });
    expect([...loaded.train, ...loaded.val].map((s) => path.basename(s.path)).sort()).toEqual(['1.png', '2.png']);
  });
});
