// The ModelRuntime on top of @rcmnet/model (TensorFlow.js). Imported lazily: the API process
// only pays for TensorFlow when an operation really runs a model (register, compare).
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
    inspectModelDir: (dir) => inspectModelDir(m, dir),
  };
}

async function loadClassifier(m: ModelPackage, dir: string): Promise<CellClassifier> {
  throw new Error(`loadClassifier(${dir}): @rcmnet/model has no loadModel yet (${Object.keys(m).length} exports)`);
}

async function inspectModelDir(m: ModelPackage, dir: string): Promise<ModelDirInfo> {
  throw new Error(`inspectModelDir(${dir}): @rcmnet/model has no model card reader yet (${Object.keys(m).length} exports)`);
}

/** Picks the fastest TensorFlow.js backend available here (done once, at the process edge). */
export async function initModelBackend(): Promise<string> {
  const m = await import("@rcmnet/model");
  return m.initBackend({ quiet: true });
}
