/**
 * Dataset loaders. Three layouts:
 *  - class folders: `DIR/<label>/*.png|jpg`, or `DIR/{train,val}/<label>/...`;
 *  - CSV manifest `split,label,path[,...]` (paths relative to the manifest), e.g. the
 *    PBC set in ../shared/datasets/pbc128/manifest.csv;
 *  - BCCD smear fields with Pascal VOC boxes (for detection and field crops).
 * Without explicit splits, a stable hash of the path assigns validation samples, so the
 * split never changes between runs or machines.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Box } from './detect.js';

export interface Sample {
  path: string;
  label: string;
}

export interface Dataset {
  labels: string[];
  train: Sample[];
  val: Sample[];
  test: Sample[];
  /** Where it came from, for the model card. */
  source: string;
  /**
   * Hash of the sample list (split, label and path relative to the dataset folder): identifies the
   * exact data snapshot a model was trained on, on any machine and however the path was spelled.
   */
  snapshotId: string;
  /**
   * Loaded with `labels`: the images of the data's other labels, per label and the split each
   * would be in (capped by `maxPerClass` like the rest), so a score on the kept labels can say
   * what it leaves out.
   */
  leftOut?: Record<Part, Record<string, number>>;
  /**
   * True when the data names no split at all (class folders without train/val folders, a manifest
   * without split values): its train and val parts were assigned here by a hash of each name, so
   * they are parts of one labelled set, not a split anyone chose (`evaluate` scores all of it).
   */
  splitsAssigned?: boolean;
}

type Part = 'train' | 'val' | 'test';

const IMAGE_EXT = /\.(png|jpe?g|webp|tiff?)$/i;

export interface LoadOptions {
  /**
   * Fraction of samples sent to val when the data has no split, or names no val part (default
   * 0.2): the val part is then carved out of train, by group where the manifest has a "group"
   * column (see finish), never left empty.
   */
  valFraction?: number;
  /** Keep only these labels (in this order). */
  labels?: string[];
  /**
   * Cap per class and split, deterministic (first N by a hash of the path relative to the dataset
   * folder, so the same subset everywhere): quick runs on big sets.
   */
  maxPerClass?: number;
}

function hashFraction(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0) / 2 ** 32;
}

export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<Dataset> {
  let st;
  try {
    st = await stat(spec);
  } catch {
    throw new Error(`Dataset not found: ${spec}`);
  }
  if (st.isFile()) return finish(await readManifest(spec), spec, path.dirname(spec), options);
  // A folder's manifest.csv, when there is one, is the dataset: its errors are reported, never
  // replaced by the class folders (which know nothing of its test part or patient groups).
  const manifest = path.join(spec, 'manifest.csv');
  const hasManifest = await stat(manifest).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw new Error(`${manifest}: ${e.message}`);
    },
  );
  return finish(hasManifest ? await readManifest(manifest) : await readClassFolders(spec), spec, spec, options);
}

type Split = 'train' | 'val' | 'test' | undefined;
/** `group`: images that must land in the same split (one patient, slide or smear field). */
type Row = Sample & { split: Split; group?: string };

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

async function readManifest(file: string): Promise<Row[]> {
  const text = await readFile(file, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [iSplit, iLabel, iPath, iGroup] = [col('split'), col('label'), col('path'), col('group')];
  if (iLabel < 0 || iPath < 0) throw new Error(`${file}: manifest needs a header with at least "label" and "path" columns (and optionally "split" and "group")`);
  const base = path.dirname(file);
  // An image listed twice would count twice, carry two labels, or put a test image into training
  // or model selection. Train and val may share images: that is how a set with no val part of
  // its own is validated (optimistically; train() says so).
  // The first listing, and the line of each split listed: a third listing (val after train and
  // val) would otherwise count the image twice in one split.
  const seen = new Map<string, { line: number; label: string; split: Split; lineIn: Map<Split, number> }>();
  return lines.slice(1).map((line, n) => {
    const cells = parseCsvLine(line);
    const label = cells[iLabel];
    const p = cells[iPath];
    if (!label || !p) throw new Error(`${file}:${n + 2}: missing label or path`);
    // An empty split cell means no split given (the loader assigns one), like a missing column.
    const split = iSplit >= 0 ? ((cells[iSplit]?.toLowerCase() || undefined) as Split) : undefined;
    if (split && !['train', 'val', 'test'].includes(split)) throw new Error(`${file}:${n + 2}: unknown split "${split}"`);
    const group = iGroup >= 0 ? cells[iGroup] || undefined : undefined;
    const resolved = path.resolve(base, p);
    const earlier = seen.get(resolved);
    const trainAndVal = (a: Split, b: Split) => a !== b && (a === 'train' || a === 'val') && (b === 'train' || b === 'val');
    const sameSplit = earlier?.lineIn.get(split);
    if (earlier && (earlier.label !== label || sameSplit !== undefined || !trainAndVal(earlier.split, split))) {
      const where = earlier.label === label && sameSplit !== undefined ? `already in ${split ?? 'no split'} on line ${sameSplit}` : `first on line ${earlier.line}`;
      throw new Error(`${file}:${n + 2}: ${p} is listed again (${where}${earlier.label !== label ? `, as ${earlier.label}` : ''})`);
    }
    if (earlier) earlier.lineIn.set(split, n + 2);
    else seen.set(resolved, { line: n + 2, label, split, lineIn: new Map([[split, n + 2]]) });
    return { label, path: resolved, split, ...(group && { group }) };
  });
}

/** The only top-level folders read as splits when a class-folder dataset has any of them. */
const SPLIT_FOLDERS = ['train', 'val', 'test'];

async function listImages(dir: string): Promise<string[]> {
  // Files only: a folder named like an image would fail later with a bare EISDIR. Hidden files too
  // are skipped, as hidden folders are: macOS leaves an AppleDouble `._x.png` (resource fork, not
  // an image) beside every x.png copied to a non-Apple volume.
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXT.test(e.name) && !e.name.startsWith('.')).map((e) => e.name).sort();
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

/**
 * Whether a folder holds images, itself or in its class folders (one level down). One this account
 * cannot read (a volume's root-owned lost+found, a Windows drive's System Volume Information) is no
 * dataset's part: it holds none as far as a run is concerned.
 */
async function holdsImages(dir: string): Promise<boolean> {
  if (!(await readable(dir))) return false;
  if ((await listImages(dir)).length) return true;
  // A class folder inside it that cannot be read fails the load (as reading it would): a valid/
  // with one unreadable class must not pass for one without images and be left out unseen.
  for (const sub of await subdirs(dir)) if ((await listImages(path.join(dir, sub))).length) return true;
  return false;
}

/** Whether this account may list a folder; an unreadable one (lost+found) is no dataset's. */
async function readable(dir: string): Promise<boolean> {
  try {
    await readdir(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return false;
    throw e;
  }
}

async function readClassFolders(dir: string): Promise<Row[]> {
  const top = await subdirs(dir);
  const splitDirs = top.filter((d) => SPLIT_FOLDERS.includes(d));
  // Beside split folders only those are read: a `valid/` (Roboflow's and Kaggle's name) had every
  // image silently left out and val carved out of train instead.
  if (splitDirs.length) {
    const others: string[] = [];
    for (const d of top) if (!SPLIT_FOLDERS.includes(d) && (await holdsImages(path.join(dir, d)))) others.push(d);
    if (others.length) {
      const named = others.map((d) => `${d}/`).join(', ');
      const valLike = others.find((d) => /^valid(ation)?$/i.test(d));
      const hint = valLike ? `rename ${valLike}/ to val/` : 'move their images into train/, val/ or test/, or out of the dataset folder';
      throw new Error(`${dir}: ${named} ${others.length === 1 ? 'holds' : 'hold'} images beside the split folders, but only train/, val/ and test/ are read: ${hint}`);
    }
  }
  const rows: Row[] = [];
  const read = async (root: string, split: Split) => {
    for (const label of await subdirs(root)) {
      // At a volume's root, beside the class folders: lost+found, which only root may read.
      if (split === undefined && label === 'lost+found' && !(await readable(path.join(root, label)))) continue;
      for (const f of await listImages(path.join(root, label))) rows.push({ label, path: path.join(root, label, f), split });
    }
  };
  if (splitDirs.length) for (const s of splitDirs) await read(path.join(dir, s), s as Split);
  else await read(dir, undefined);
  if (!rows.length) throw new Error(`${dir}: no images found (expected DIR/<label>/*.png|jpg, DIR/{train,val}/<label>/..., or a manifest.csv)`);
  return rows;
}

/**
 * `root`: the dataset folder (the manifest's). Samples are identified by their path relative to it,
 * so the snapshot id and the --max-per-class subset are the same however the data was named (`ds`,
 * `ds/manifest.csv`, relative or absolute) and wherever the folder sits on a machine.
 */
function finish(rows: Row[], source: string, root: string, options: LoadOptions): Dataset {
  const rel = (p: string) => path.relative(path.resolve(root), path.resolve(p)).split(path.sep).join('/');
  const valFraction = options.valFraction ?? 0.2;
  const wanted = options.labels ? new Set(options.labels) : null;
  const kept = rows.filter((r) => !wanted || wanted.has(r.label));
  const labels = options.labels ?? [...new Set(kept.map((r) => r.label))].sort();
  const missing = labels.filter((l) => !kept.some((r) => r.label === l));
  if (missing.length) throw new Error(`${source}: no samples for label(s) ${missing.join(', ')}`);
  // Rows without a split are sent to val by a hash of their group (all cells of one patient,
  // slide or field together: crops of one smear share its stain and often neighbouring cells,
  // so splitting them apart would let val flatter the model), else of the image itself.
  const toVal = (r: Row) => hashFraction(r.group !== undefined ? `group:${r.group}` : path.basename(r.path) + r.label) < valFraction;
  const hasVal = kept.some((r) => r.split === 'val');
  // Data that names train (and test) but no val part: val is carved out of train, as if those
  // rows had no split, rather than leaving model selection without a validation set.
  const splitOf = (r: Row): Part => (r.split === undefined || (r.split === 'train' && !hasVal) ? (toVal(r) ? 'val' : 'train') : r.split);
  const out: Record<Part, Sample[]> = { train: [], val: [], test: [] };
  const splitOfGroup = new Map<string, string>();
  for (const r of kept) {
    const split = splitOf(r);
    // A group (one patient, slide or field) in two parts: a test or val figure on images whose
    // patient or smear the model trained on. Explicit splits can say so; refused, not repaired.
    if (r.group !== undefined) {
      const seen = splitOfGroup.get(r.group);
      if (seen !== undefined && seen !== split) {
        throw new Error(`${source}: group "${r.group}" is in both ${seen} and ${split}: the images of one group must share a split`);
      }
      splitOfGroup.set(r.group, split);
    }
    out[split].push({ path: r.path, label: r.label });
  }
  if (options.maxPerClass) {
    for (const s of ['train', 'val', 'test'] as const) out[s] = capPerClass(out[s], options.maxPerClass, root);
  }
  const listing = (['train', 'val', 'test'] as const).flatMap((s) => out[s].map((x) => `${s},${x.label},${rel(x.path)}`)).sort();
  const snapshotId = createHash('sha256').update(listing.join('\n')).digest('hex').slice(0, 16);
  const leftOut = wanted ? countLeftOut(rows.filter((r) => !wanted.has(r.label)), splitOf, options.maxPerClass) : undefined;
  const splitsAssigned = rows.every((r) => r.split === undefined);
  return { labels, ...out, source: path.resolve(source), snapshotId, ...(leftOut ? { leftOut } : {}), ...(splitsAssigned ? { splitsAssigned } : {}) };
}

/**
 * At most `maxPerClass` samples of each label, the first by a hash of the path relative to `root`
 * (the dataset folder): the same subset wherever the folder sits and however it was named.
 */
export function capPerClass(samples: Sample[], maxPerClass: number, root: string): Sample[] {
  const rel = (p: string) => path.relative(path.resolve(root), path.resolve(p)).split(path.sep).join('/');
  const counts = new Map<string, number>();
  return samples
    .map((x) => ({ x, h: hashFraction(rel(x.path)) }))
    .sort((a, b) => a.h - b.h)
    .map((e) => e.x)
    .filter((x) => {
      const c = counts.get(x.label) ?? 0;
      counts.set(x.label, c + 1);
      return c < maxPerClass;
    });
}

/** Images per split and label of the rows a label filter dropped, each count capped as the kept ones are. */
function countLeftOut(dropped: Row[], splitOf: (r: Row) => Part, maxPerClass: number | undefined): Record<Part, Record<string, number>> {
  const counts: Record<Part, Record<string, number>> = { train: {}, val: {}, test: {} };
  for (const r of dropped) {
    const part = counts[splitOf(r)];
    part[r.label] = Math.min((part[r.label] ?? 0) + 1, maxPerClass || Infinity);
  }
  return counts;
}

export interface BccdField {
  id: string;
  imagePath: string;
  width: number;
  height: number;
  wbc: Box[];
  split: 'train' | 'val' | 'test' | undefined;
}

/** BCCD (Pascal VOC): fields with their WBC boxes. */
export async function loadBccd(dir: string): Promise<BccdField[]> {
  const annDir = path.join(dir, 'Annotations');
  const splits = new Map<string, 'train' | 'val' | 'test'>();
  for (const s of ['train', 'val', 'test'] as const) {
    try {
      const ids = (await readFile(path.join(dir, 'ImageSets', 'Main', `${s}.txt`), 'utf8')).split(/\s+/).filter(Boolean);
      for (const id of ids) splits.set(id, s);
    } catch {
      // Split lists are optional.
    }
  }
  let names: string[];
  try {
    names = await readdir(annDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`${dir}: not a BCCD folder (Annotations/ missing)`);
    throw new Error(`${annDir}: cannot be read (${code ?? (e as Error).message})`);
  }
  const fields: BccdField[] = [];
  for (const f of names.filter((f) => f.endsWith('.xml')).sort()) {
    const xml = await readFile(path.join(annDir, f), 'utf8');
    const id = f.replace(/\.xml$/, '');
    const num = (tag: string, s: string) => Number(new RegExp(`<${tag}>\\s*([-\\d.]+)\\s*</${tag}>`).exec(s)?.[1] ?? NaN);
    const wbc: Box[] = [];
    for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
      const o = m[1]!;
      if (!/<name>\s*WBC\s*<\/name>/i.test(o)) continue;
      const [x0, y0, x1, y1] = [num('xmin', o), num('ymin', o), num('xmax', o), num('ymax', o)];
      if ([x0, y0, x1, y1].some((v) => !Number.isFinite(v))) continue;
      wbc.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    }
    fields.push({
      id,
      imagePath: path.join(dir, 'JPEGImages', `${id}.jpg`),
      width: num('width', xml),
      height: num('height', xml),
      wbc,
      split: splits.get(id),
    });
  }
  return fields;
}
