// The ModelRuntime on top of @rcmnet/model (TensorFlow.js). Imported lazily: the API process
// only pays for TensorFlow when an operation really runs a model (register, compare).
import { createHash } from "node:crypto";
import { runState } from "@rcmnet/model/runState";
import type { ModelCard } from "@rcmnet/model";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { ClassifierCache } from "./classifierCache.ts";
import type {
  CellBox,
  CellClassifier,
  EpochMetrics,
  ModelDirInfo,
  ModelRuntime,
  SyntheticTrainRequest,
  TrainProgress,
  TrainRequest,
  TrainResult,
} from "./runtime.ts";

/** Crops are stored at this size whatever the model's input size (the model resizes). */
export const CROP_SIZE = 128;

type ModelPackage = typeof import("@rcmnet/model");

let runtime: Promise<ModelRuntime> | undefined;

export function getModelRuntime(): Promise<ModelRuntime> {
  runtime ??= import("@rcmnet/model").then(createRuntime);
  return runtime;
}

const caches = new Map<string, Promise<ClassifierCache>>();

/** One classifier cache per data dir and process. */
export function sharedClassifierCache(dataDir: string): Promise<ClassifierCache> {
  let cache = caches.get(dataDir);
  if (!cache) {
    cache = getModelRuntime().then((r) => new ClassifierCache(r, dataDir));
    caches.set(dataDir, cache);
  }
  return cache;
}

function createRuntime(m: ModelPackage): ModelRuntime {
  return {
    async detectCells(image) {
      const found = await m.detectCells(Buffer.from(image));
      return found.map(
        (d): CellBox => ({
          x: Math.round(d.x),
          y: Math.round(d.y),
          width: Math.round(d.width),
          height: Math.round(d.height),
          score: d.score,
        }),
      );
    },
    async cropCells(image, boxes) {
      const crops = await m.cropCells(Buffer.from(image), boxes, CROP_SIZE);
      return Promise.all(crops.map((c) => m.encodePng(c)));
    },
    async imageSize(image) {
      const info = await m.validateImage(Buffer.from(image));
      return { width: info.width, height: info.height };
    },
    loadClassifier: (dir) => loadClassifier(m, dir),
    inspectModelDir,
    train: (r) => train(m, r),
    trainSynthetic: (r) => trainSynthetic(m, r),
  };
}

async function loadClassifier(m: ModelPackage, dir: string): Promise<CellClassifier> {
  const model = await m.loadModel(dir);
  return {
    labels: model.labels,
    async predict(crops, { abstainThreshold }) {
      const out = await model.predict(
        crops.map((c) => Buffer.from(c)),
        { abstainThreshold },
      );
      // Stored label: the model's best class even when it abstains (the reviewer's hint);
      // `abstained` makes the cell show as "unidentified".
      return out.map((p) => ({
        label: p.topLabel,
        probabilities: p.probabilities,
        confidence: p.confidence,
        abstained: p.abstained,
      }));
    },
    explain: (crop) => model.explain(Buffer.from(crop)),
    dispose: () => model.dispose(),
  };
}

type TrainEvent = Parameters<NonNullable<Parameters<ModelPackage["train"]>[1]>>[0];
type EpochRecord = Awaited<ReturnType<ModelPackage["train"]>>["history"][number];

const toEpochMetrics = (r: EpochRecord): EpochMetrics => ({
  epoch: r.epoch,
  trainLoss: r.trainLoss,
  trainAccuracy: r.trainAcc,
  valLoss: r.valLoss,
  valAccuracy: r.valAcc,
  learningRate: r.lr,
  frozen: r.phase === "head",
});

/** Epochs an earlier attempt of the same run completed (the trainer appends one line each). */
async function previousEpochs(outDir: string): Promise<EpochMetrics[]> {
  try {
    const text = await readFile(join(outDir, "metrics.jsonl"), "utf8");
    return text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => toEpochMetrics(JSON.parse(l) as EpochRecord));
  } catch {
    return [];
  }
}

/** Maps the trainer's events onto TrainProgress (overall fraction, history, log lines). */
function progressAdapter(onProgress: (p: TrainProgress) => void | Promise<void>, history: EpochMetrics[]) {
  return (e: TrainEvent) => {
    if (e.type === "start") {
      void onProgress({
        progress: e.startEpoch / e.epochs,
        epoch: e.startEpoch + 1,
        epochs: e.epochs,
        history,
        message:
          `${e.startEpoch > 0 ? `resumed after epoch ${e.startEpoch}` : "started"}: ${e.arch}, ${e.parameterCount} parameters, ` +
          `${e.train} train / ${e.val} val images, backend ${e.backend}`,
      });
    } else if (e.type === "step") {
      void onProgress({
        progress: (e.epoch - 1 + e.step / e.steps) / e.epochs,
        epoch: e.epoch,
        epochs: e.epochs,
        history,
      });
    } else if (e.type === "epoch") {
      const record = toEpochMetrics(e as unknown as EpochRecord);
      const at = history.findIndex((h) => h.epoch === record.epoch);
      if (at >= 0) history.splice(at, 1, record);
      else history.push(record);
      void onProgress({
        progress: e.epoch / e.epochs,
        epoch: e.epoch,
        epochs: e.epochs,
        history,
        message:
          `epoch ${e.epoch}/${e.epochs} (${e.phase === "head" ? "head only, backbone frozen" : "all layers"}): ` +
          `train loss ${e.trainLoss.toFixed(3)} acc ${e.trainAcc.toFixed(3)}, val loss ${e.valLoss.toFixed(3)} acc ${e.valAcc.toFixed(3)}` +
          `, ${e.imgPerSec.toFixed(1)} img/s`,
      });
    }
  };
}

async function train(m: ModelPackage, r: TrainRequest): Promise<TrainResult> {
  const history = await previousEpochs(r.outDir);
  const result = await m
    .train(
      {
        data: r.manifest,
        out: r.outDir,
        from: r.from,
        labels: r.labels,
        epochs: r.epochs,
        // 0 is honoured: the whole network fine-tunes from the first epoch, as the run's config says.
        headEpochs: r.from ? r.frozenEpochs : undefined,
        batchSize: r.batchSize,
        lr: r.learningRate,
        unfreezeLrFactor: r.fineTuneLearningRate / r.learningRate,
        seed: r.seed,
        size: r.inputSize,
        widthMultiplier: r.widthMultiplier,
        name: r.name,
        cropContext: r.cropContext,
        // Continue from out/checkpoint when an earlier attempt (a killed worker) left one.
        resume: true,
        signal: r.signal,
        // The signal fires on a lost lease (another worker may resume the run in outDir a heartbeat
        // later), on shutdown (resumed from the last checkpoint) and on cancel (whose files are
        // deleted): none of them wants anything written after it.
        persistOnAbort: false,
      },
      progressAdapter(r.onProgress, history),
    )
    .catch((err: unknown) => {
      throw err instanceof m.TrainingCancelled ? new TrainingStopped() : err;
    });
  return { history: result.history.map(toEpochMetrics), backend: result.backend };
}

async function trainSynthetic(m: ModelPackage, r: SyntheticTrainRequest): Promise<TrainResult> {
  const dataDir = await mkdtemp(join(tmpdir(), "rcmnet-synth-"));
  try {
    await m.writeSynthDataset(dataDir, { perClass: r.perClass, size: 64, seed: r.seed });
    const result = await m.train(
      {
        data: dataDir,
        out: r.outDir,
        arch: "rcmnet",
        size: r.inputSize,
        widthMultiplier: r.widthMultiplier,
        epochs: r.epochs,
        seed: r.seed,
        name: r.name,
        // Synthetic crops are framed the way cropCells frames a detected cell.
        cropContext: m.CROP_CONTEXT,
      },
      progressAdapter(r.onProgress, []),
    );
    return { history: result.history.map(toEpochMetrics), backend: result.backend };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Training returned because its signal fired (cancel, lost lease or shutdown). */
export class TrainingStopped extends Error {
  override name = "TrainingStopped";
}

/**
 * Reads model-card.json and re-hashes weights.bin (the @rcmnet/model directory format). Done
 * here with plain fs so the API can inspect a directory without loading TensorFlow.
 */
export async function inspectModelDir(dir: string): Promise<ModelDirInfo> {
  let cardText: string;
  let card: Record<string, unknown>;
  try {
    cardText = await readFile(join(dir, "model-card.json"), "utf8");
    card = JSON.parse(cardText) as Record<string, unknown>;
  } catch {
    throw new Error("model-card.json is missing or not JSON");
  }
  let topology: Buffer;
  try {
    topology = await readFile(join(dir, "topology.json"));
  } catch {
    throw new Error("topology.json is missing");
  }
  const declared = card.weightsSha256;
  const labels = card.labels;
  const inputSize = card.inputSize;
  if (typeof declared !== "string" || !/^[0-9a-f]{64}$/.test(declared))
    throw new Error("model-card.json has no weightsSha256");
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === "string")) {
    throw new Error("model-card.json has no label set");
  }
  if (typeof inputSize !== "number" || !Number.isInteger(inputSize))
    throw new Error("model-card.json has no inputSize");
  let actual: string;
  try {
    actual = createHash("sha256")
      .update(await readFile(join(dir, "weights.bin")))
      .digest("hex");
  } catch {
    throw new Error("weights.bin is missing");
  }
  if (actual !== declared)
    throw new Error(`weights.bin hashes to ${actual}, model-card.json declares ${declared}`);
  const obj = (v: unknown): Record<string, unknown> =>
    v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  return {
    name: typeof card.name === "string" && card.name ? card.name : "rcmnet",
    // The card has no version field of its own: a short weights hash names the exact model.
    version: typeof card.version === "string" && card.version ? card.version : `sha-${actual.slice(0, 12)}`,
    labels: labels as string[],
    inputSize,
    cropContext: typeof card.cropContext === "number" ? card.cropContext : null,
    normalization: obj(card.normalization),
    architecture: {
      arch: card.architecture ?? null,
      config: card.config ?? null,
      parameterCount: card.parameterCount ?? null,
    },
    metrics: {
      // The trainer's validation metrics, in the same shape as the TEST metrics computed here
      // (confusion with its labels) so the dashboard can draw them; never called "test".
      validation: validationMetrics(card.metrics, labels as string[]),
      history: await historyOf(dir),
      calibration: card.calibration ?? null,
      data: card.data ?? null,
      // The recipe as the trainer resolved it (its defaults included) and the epoch it kept.
      training: card.training ?? null,
      backend: card.backend ?? null,
      createdAt: card.createdAt ?? null,
    },
    weightsSha256: actual,
    folderSha256: folderSha256(cardText, topology),
    abstainThreshold: typeof card.abstainThreshold === "number" ? card.abstainThreshold : undefined,
    run: runState(card as unknown as ModelCard),
  };
}

/**
 * One hash for everything a prediction is read through: the card (labels, input size,
 * normalisation, calibration, abstain threshold) and the topology (the layers). The weights are
 * covered too, since the card declares their hash and inspectModelDir has just checked it.
 */
export function folderSha256(cardText: string, topology: Buffer | string): string {
  const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
  return sha(`model-card.json ${sha(cardText)}\ntopology.json ${sha(topology)}\n`);
}

/** Picks the fastest TensorFlow.js backend available here (done once, at the process edge). */
export async function initModelBackend(): Promise<string> {
  const m = await import("@rcmnet/model");
  return m.initBackend({ quiet: true });
}

function validationMetrics(raw: unknown, labels: string[]): Record<string, unknown> | null {
  if (!raw || typeof raw !== "object") return null;
  const m = raw as {
    top1?: number;
    macroF1?: number;
    balancedAccuracy?: number;
    perClass?: unknown;
    confusion?: unknown;
    count?: number;
    ece?: number;
  };
  return {
    accuracy: m.top1 ?? null,
    macroF1: m.macroF1 ?? null,
    balancedAccuracy: m.balancedAccuracy ?? null,
    perClass: m.perClass ?? {},
    confusion: Array.isArray(m.confusion) ? { labels, matrix: m.confusion } : null,
    count: m.count ?? null,
    ece: m.ece ?? null,
  };
}

/** Per-epoch curve from the trainer's metrics.jsonl, when the directory has it. */
async function historyOf(dir: string): Promise<EpochMetrics[]> {
  return previousEpochs(dir);
}

/** A synthetic smear field (BCCD-like 640x480 JPEG) with the ground truth of its white cells. */
export async function synthDemoField(seed: number): Promise<{
  bytes: Uint8Array;
  mimeType: "image/jpeg";
  truth: { x: number; y: number; width: number; height: number; label: string }[];
}> {
  const m = await import("@rcmnet/model");
  const field = m.synthField({ seed });
  return {
    // JPEG like the BCCD fields (the package exports PNG only; sharp encodes the raw RGB).
    bytes: await sharp(Buffer.from(field.image.data), {
      raw: { width: field.image.width, height: field.image.height, channels: 3 },
    })
      .jpeg({ quality: 92 })
      .toBuffer(),
    mimeType: "image/jpeg",
    truth: field.cells.map((c) => ({ x: c.x, y: c.y, width: c.width, height: c.height, label: c.label })),
  };
}

/** Synthetic single-cell crops (PNG) with their labels. */
export async function synthCellCrops(options: {
  perClass: number;
  size: number;
  seed: number;
  classes?: readonly string[];
}): Promise<{ label: string; bytes: Uint8Array }[]> {
  const m = await import("@rcmnet/model");
  const cells = m.synthCells({
    perClass: options.perClass,
    size: options.size,
    seed: options.seed,
    classes: options.classes as Parameters<typeof m.synthCells>[0]["classes"],
  });
  return Promise.all(cells.map(async (c) => ({ label: c.label, bytes: await m.encodePng(c.image) })));
}
