/**
 * Model directory: `topology.json` (architecture config + weight manifest),
 * `weights.bin` (float32 little-endian, manifest order) and `model-card.json`
 * (labels, normalisation, backend, data snapshot, metrics, calibration, sha256 of the
 * weights). Loading refuses weights whose hash differs from the card: a model that is
 * not the one that was validated must never classify patient cells silently.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Network, type ArchConfig } from './architecture.js';
import { tf } from './tf.js';

export { runState, unfinishedWarning, type RunState } from './runState.js';

export const TOPOLOGY_FORMAT = 'rcmnet-topology/1';

export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalMetrics {
  top1: number;
  balancedAccuracy: number;
  macroF1: number;
  perClass: Record<string, ClassMetrics>;
  confusion: number[][];
  ece: number;
  nll: number;
  count: number;
}

export interface ModelCard {
  format: 'rcmnet-model-card/1';
  name: string;
  architecture: ArchConfig['arch'];
  config: ArchConfig;
  labels: string[];
  inputSize: number;
  normalization: Normalization;
  /**
   * Crop framing of the training images: side = context x the cell box when they were cut by
   * cropCells (platform snapshots, synthetic crops); null when they came pre-cropped (PBC).
   */
  cropContext: number | null;
  backend: string;
  parameterCount: number;
  data: { source: string; snapshotId: string; trainCount: number; valCount: number };
  training: Record<string, unknown>;
  /** Validation metrics (never test) after temperature scaling. */
  metrics: EvalMetrics | null;
  calibration: { temperature: number; fittedOn: 'val' | 'none'; eceBefore?: number; eceAfter?: number; notFittedBecause?: string };
  abstainThreshold: number;
  parent?: { name: string; weightsSha256: string; labels: string[] };
  weightsSha256: string;
  /**
   * sha256 of topology.json: its weight list says which bytes of weights.bin go to which variable,
   * so keys swapped between two same-shape entries (a BatchNorm mean and var) would load silently.
   * Absent in cards written before 2026-11-27: those load unchecked (old models must still load).
   */
  topologySha256?: string;
  createdAt: string;
}

interface WeightEntry {
  key: string;
  shape: number[];
  learnable: boolean;
}

interface Topology {
  format: typeof TOPOLOGY_FORMAT;
  config: ArchConfig;
  weights: WeightEntry[];
}

export class ModelIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelIntegrityError';
  }
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

export async function serializeWeights(net: Network): Promise<{ bin: Buffer; entries: WeightEntry[] }> {
  const entries: WeightEntry[] = [];
  const parts: Buffer[] = [];
  for (const e of net.params.all()) {
    const data = (await e.variable.data()) as Float32Array;
    entries.push({ key: e.key, shape: e.variable.shape, learnable: e.learnable });
    parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  return { bin: Buffer.concat(parts), entries };
}

/**
 * Writes the model's files into `dir` via a temp folder inside it and one rename per file (other
 * files in `dir`, such as metrics.jsonl and checkpoint/, stay). No file is ever half written; a kill
 * between two renames can leave new weights beside the old card, which loadNetwork then refuses
 * (sha256 mismatch) rather than load a mix, until a resumed run writes the model again.
 */
export async function saveModel(dir: string, net: Network, card: Omit<ModelCard, 'weightsSha256' | 'format'>, extra: Record<string, Buffer | string> = {}): Promise<ModelCard> {
  const { bin, entries } = await serializeWeights(net);
  const topology: Topology = { format: TOPOLOGY_FORMAT, config: net.config, weights: entries };
  const topologyText = JSON.stringify(topology, null, 1);
  const full: ModelCard = { format: 'rcmnet-model-card/1', ...card, weightsSha256: sha256(bin), topologySha256: sha256(Buffer.from(topologyText)) };
  // Staged inside `dir`, not beside it: `dir` may be a mount point (a Docker volume, where a rename
  // from its parent fails with EXDEV) or sit in a read-only parent (EACCES). Inside it the renames
  // stay on one file system and need write access to `dir` only.
  await mkdir(dir, { recursive: true });
  await removeStaleStaging(dir);
  // A name of its own for every save: two containers sharing the volume can have the same pid.
  const tmp = path.join(dir, `.saving-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    await writeFile(path.join(tmp, 'weights.bin'), bin);
    await writeFile(path.join(tmp, 'topology.json'), topologyText);
    await writeFile(path.join(tmp, 'model-card.json'), JSON.stringify(full, null, 2));
    for (const [name, content] of Object.entries(extra)) await writeFile(path.join(tmp, name), content);
    for (const name of ['weights.bin', 'topology.json', 'model-card.json', ...Object.keys(extra)]) {
      await rename(path.join(tmp, name), path.join(dir, name));
    }
  } catch (e) {
    // Only a kill should leave it behind: a later save removes it only once it is stale.
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  await rm(tmp, { recursive: true, force: true });
  return full;
}

/**
 * How long a staging folder must have been left untouched to count as a killed save's: a save
 * writes and renames its files within seconds. A live one is another process's save under way
 * (a worker that lost its lease finishes the save it was in, then writes nothing more: the run's
 * next worker starts well after), whose files must not vanish under it. Short, so that a resumed
 * run's later saves clear what a killed one left (a full set of weights) before it is registered.
 */
const STALE_STAGING_MS = 2 * 60 * 1000;

/** Removes the staging folders in `dir` that saves killed part way left behind (each a full set of weights). */
async function removeStaleStaging(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('.saving-')) continue;
    const folder = path.join(dir, name);
    const modified = await stat(folder).then((s) => s.mtimeMs, () => null); // gone meanwhile: its save ended
    if (modified !== null && Date.now() - modified > STALE_STAGING_MS) await rm(folder, { recursive: true, force: true });
  }
}

export interface LoadedModel {
  net: Network;
  card: ModelCard;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Three finite numbers (one per colour channel) that each pass `ok`. */
function isRgb(v: unknown, ok: (x: number) => boolean): boolean {
  return Array.isArray(v) && v.length === 3 && v.every((x) => finite(x) && ok(x));
}

/**
 * One of the files saveModel writes, beside a card that was read: missing, the folder is damaged
 * (named so, rather than a bare ENOENT from somewhere in loading). Any other failure (permissions,
 * too many open files) is said as it is, with the file named: the folder may well be intact.
 */
async function readModelFile(dir: string, name: string): Promise<Buffer> {
  const file = path.join(dir, name);
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelIntegrityError(`${file}: missing: the model folder is damaged`);
    throw new Error(`${file}: cannot be read (${code ?? (e as Error).message})`);
  }
}

/** The parsed topology and the sha256 of its bytes. */
async function readTopology(dir: string): Promise<{ topology: Topology; digest: string }> {
  const file = path.join(dir, 'topology.json');
  const bytes = await readModelFile(dir, 'topology.json');
  const text = bytes.toString('utf8');
  let topology: Topology;
  try {
    topology = JSON.parse(text) as Topology;
  } catch (e) {
    throw new ModelIntegrityError(`${file}: not valid JSON (${(e as Error).message}): the model folder is damaged`);
  }
  if (topology?.format !== TOPOLOGY_FORMAT) throw new Error(`${dir}: unsupported topology format ${String(topology?.format)}`);
  if (typeof topology.config !== 'object' || topology.config === null || !Array.isArray(topology.weights)) {
    throw new ModelIntegrityError(`${file}: no network config or weight list: the model folder is damaged`);
  }
  return { topology, digest: sha256(bytes) };
}

export async function readCard(dir: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'model-card.json'), 'utf8');
  } catch {
    throw new Error(`${dir}: not a model directory (model-card.json missing)`);
  }
  let card: ModelCard;
  try {
    card = JSON.parse(text) as ModelCard;
  } catch (e) {
    throw new Error(`${path.join(dir, 'model-card.json')}: not valid JSON (${(e as Error).message})`);
  }
  // What predictions are read through: missing or mistyped, they would give plausible nonsense (a
  // zero std or temperature gives infinite inputs or logits; a threshold over 1 abstains on all).
  const problems = [
    Array.isArray(card?.labels) && card.labels.length >= 2 && card.labels.every((l) => typeof l === 'string') ? null : 'labels (at least two names)',
    Number.isInteger(card?.inputSize) && card.inputSize >= 16 ? null : 'inputSize',
    typeof card?.weightsSha256 === 'string' ? null : 'weightsSha256',
    isRgb(card?.normalization?.mean, () => true) && isRgb(card?.normalization?.std, (s) => s > 0) ? null : 'normalization (mean and std: 3 numbers each, std > 0)',
    finite(card?.calibration?.temperature) && card.calibration.temperature > 0 ? null : 'calibration.temperature (a number > 0)',
    finite(card?.abstainThreshold) && card.abstainThreshold >= 0 && card.abstainThreshold <= 1 ? null : 'abstainThreshold (0 to 1)',
  ].filter((p): p is string => p !== null);
  if (problems.length) throw new Error(`${path.join(dir, 'model-card.json')}: missing or invalid ${problems.join(', ')}`);
  return card;
}

/** Loads and verifies a model directory. */
export async function loadNetwork(dir: string): Promise<LoadedModel> {
  const card = await readCard(dir);
  const { topology, digest: topologyDigest } = await readTopology(dir);
  const bin = await readModelFile(dir, 'weights.bin');
  const digest = sha256(bin);
  if (digest !== card.weightsSha256) {
    throw new ModelIntegrityError(`${dir}: weights.bin sha256 ${digest} does not match the model card (${card.weightsSha256}); refusing to load`);
  }
  if (card.topologySha256 !== undefined && topologyDigest !== card.topologySha256) {
    throw new ModelIntegrityError(`${dir}: topology.json sha256 ${topologyDigest} does not match the model card (${card.topologySha256}); refusing to load`);
  }
  // The card names the outputs and the input size the topology builds: they must agree, or every
  // prediction is read against the wrong class list or fed at the wrong size.
  if (topology.config.numClasses !== card.labels.length || topology.config.inputSize !== card.inputSize) {
    throw new ModelIntegrityError(
      `${dir}: model-card.json (${card.labels.length} labels, ${card.inputSize} px) does not match topology.json (${topology.config.numClasses} outputs, ${topology.config.inputSize} px); refusing to load`,
    );
  }
  const net = new Network(topology.config);
  const expectedKeys = new Set(net.params.keys());
  let offset = 0;
  for (const w of topology.weights) {
    if (!expectedKeys.has(w.key)) {
      net.dispose();
      throw new Error(`${dir}: weight ${w.key} is not part of architecture ${topology.config.arch}`);
    }
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (offset + n * 4 > bin.length) {
      net.dispose();
      throw new ModelIntegrityError(`${dir}: weights.bin is shorter than its manifest`);
    }
    const values = new Float32Array(bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + n * 4));
    const v = net.params.get(w.key);
    if (v.shape.join('x') !== w.shape.join('x')) {
      net.dispose();
      throw new Error(`${dir}: weight ${w.key} has shape ${w.shape.join('x')}, architecture expects ${v.shape.join('x')}`);
    }
    tf.tidy(() => v.assign(tf.tensor(values, w.shape, 'float32')));
    expectedKeys.delete(w.key);
    offset += n * 4;
  }
  if (expectedKeys.size) {
    net.dispose();
    throw new Error(`${dir}: weights missing for ${[...expectedKeys].slice(0, 3).join(', ')}${expectedKeys.size > 3 ? '...' : ''}`);
  }
  return { net, card };
}
