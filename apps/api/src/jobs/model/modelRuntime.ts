// The ModelRuntime on top of @rcmnet/model (TensorFlow.js). Imported lazily: the API process
// only pays for TensorFlow when an operation really runs a model (register, compare).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ClassifierCache } from "./classifierCache.ts";
import type { CellBox, CellClassifier, ModelDirInfo, ModelRuntime } from "./runtime.ts";

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
  };
}

async function loadClassifier(m: ModelPackage, dir: string): Promise<CellClassifier> {
  throw new Error(`loadClassifier(${dir}): @rcmnet/model has no loadModel yet (${Object.keys(m).length} exports)`);
}

/**
 * Reads model-card.json and re-hashes weights.bin (the @rcmnet/model directory format). Done
 * here with plain fs so the API can inspect a directory without loading TensorFlow.
 */
export async function inspectModelDir(dir: string): Promise<ModelDirInfo> {
  let card: Record<string, unknown>;
  try {
    card = JSON.parse(await readFile(join(dir, "model-card.json"), "utf8")) as Record<string, unknown>;
  } catch {
    throw new Error("model-card.json is missing or not JSON");
  }
  const declared = card.weightsSha256;
  const labels = card.labels;
  const inputSize = card.inputSize;
  if (typeof declared !== "string" || !/^[0-9a-f]{64}$/.test(declared)) throw new Error("model-card.json has no weightsSha256");
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === "string")) {
    throw new Error("model-card.json has no label set");
  }
  if (typeof inputSize !== "number" || !Number.isInteger(inputSize)) throw new Error("model-card.json has no inputSize");
  let actual: string;
  try {
    actual = createHash("sha256").update(await readFile(join(dir, "weights.bin"))).digest("hex");
  } catch {
    throw new Error("weights.bin is missing");
  }
  if (actual !== declared) throw new Error(`weights.bin hashes to ${actual}, model-card.json declares ${declared}`);
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return {
    name: typeof card.name === "string" && card.name ? card.name : "rcmnet",
    // The card has no version field of its own: a short weights hash names the exact model.
    version: typeof card.version === "string" && card.version ? card.version : `sha-${actual.slice(0, 12)}`,
    labels: labels as string[],
    inputSize,
    normalization: obj(card.normalization),
    architecture: { arch: card.architecture ?? null, config: card.config ?? null, parameterCount: card.parameterCount ?? null },
    metrics: {
      validation: card.metrics ?? null,
      calibration: card.calibration ?? null,
      data: card.data ?? null,
      backend: card.backend ?? null,
      createdAt: card.createdAt ?? null,
    },
    weightsSha256: actual,
    abstainThreshold: typeof card.abstainThreshold === "number" ? card.abstainThreshold : undefined,
  };
}

/** Picks the fastest TensorFlow.js backend available here (done once, at the process edge). */
export async function initModelBackend(): Promise<string> {
  const m = await import("@rcmnet/model");
  return m.initBackend({ quiet: true });
}
