// What the jobs need from the model package, as a narrow interface. The worker's handlers are
// written against this, so a change in @rcmnet/model touches one adapter file
// (modelRuntime.ts), and handler tests could swap the runtime if they ever needed to.

import type { RunState } from "@rcmnet/model/runState";

/** A cell's bounding box on the slide image, in integer pixels. */
export interface CellBox {
  x: number;
  y: number;
  width: number;
  height: number;
  score?: number;
}

export interface CellPrediction {
  label: string;
  /** label -> probability over the model's label set. */
  probabilities: Record<string, number>;
  confidence: number;
  /** Confidence under the threshold: the cell is shown as "unidentified" for human review. */
  abstained: boolean;
}

export interface CellClassifier {
  labels: string[];
  /** Classifies encoded crops (PNG/JPEG bytes), in order. */
  predict(crops: Uint8Array[], options: { abstainThreshold: number }): Promise<CellPrediction[]>;
  /** Grad-CAM overlay (PNG) of one encoded crop, for the class the model predicts. */
  explain(crop: Uint8Array): Promise<Uint8Array>;
  dispose(): void;
}

export interface ModelRuntime {
  /** Nucleated-cell boxes on a smear field (encoded image bytes). */
  detectCells(image: Uint8Array): Promise<CellBox[]>;
  /** PNG crops of the boxes, in order. */
  cropCells(image: Uint8Array, boxes: CellBox[]): Promise<Uint8Array[]>;
  /** Width and height of an encoded image. */
  imageSize(image: Uint8Array): Promise<{ width: number; height: number }>;
  loadClassifier(modelDir: string): Promise<CellClassifier>;
  /**
   * Reads a model directory's card and hashes its weights. Throws when the directory is not a
   * model, or the weights do not match the hash the card declares.
   */
  inspectModelDir(modelDir: string): Promise<ModelDirInfo>;
  /** Trains (transfer learning when `from` is given) and writes a model directory to outDir. */
  train(request: TrainRequest): Promise<TrainResult>;
  /** Trains a small model on synthetic cells (the demo champion) into outDir. */
  trainSynthetic(request: SyntheticTrainRequest): Promise<TrainResult>;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  learningRate?: number;
  /** Backbone frozen in this epoch (transfer learning's first phase). */
  frozen?: boolean;
}

export interface TrainProgress {
  /** 0..1 over the whole run. */
  progress: number;
  epoch: number;
  epochs: number;
  /** Completed epochs so far (grows at each epoch end). */
  history: EpochMetrics[];
  /** A line for the run's log, when something worth logging happened. */
  message?: string;
}

export interface TrainRequest {
  /** A manifest.csv (split,label,path) with train and val rows. */
  manifest: string;
  labels: string[];
  /** Also holds the checkpoint (outDir/checkpoint): a run restarted with the same outDir resumes from it. */
  outDir: string;
  /** Base model directory for transfer learning; absent: from scratch. */
  from?: string;
  name: string;
  version: string;
  epochs: number;
  frozenEpochs: number;
  batchSize: number;
  learningRate: number;
  fineTuneLearningRate: number;
  seed: number;
  inputSize?: number;
  widthMultiplier?: number;
  /** How the training images were framed, for the model card (ModelDirInfo.cropContext). */
  cropContext: number | null;
  signal: AbortSignal;
  onProgress(progress: TrainProgress): void | Promise<void>;
}

export interface SyntheticTrainRequest {
  outDir: string;
  name: string;
  version: string;
  perClass: number;
  epochs: number;
  inputSize: number;
  widthMultiplier: number;
  seed: number;
  onProgress(progress: TrainProgress): void;
}

export interface TrainResult {
  history: EpochMetrics[];
  backend: string;
}

/** What the registry stores about a model directory (from its model-card.json). */
export interface ModelDirInfo {
  name: string;
  version: string;
  labels: string[];
  inputSize: number;
  normalization: Record<string, unknown>;
  architecture: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** sha256 of the weights, recomputed from the files (and equal to what the card declares). */
  weightsSha256: string;
  /** sha256 binding model-card.json and topology.json (and through the card, the weights). */
  folderSha256: string;
  /** The crop framing it was trained on (null: pre-cropped cells of unknown framing). */
  cropContext: number | null;
  abstainThreshold?: number;
  /** Where its training run stood when the card was written (absent: read as finished). */
  run?: RunState;
}

/** Label shown for cells the model abstains on; never a training label. */
export const UNIDENTIFIED = "unidentified";
export const ARTIFACT = "artifact";
/** Used when a model card recommends no threshold of its own. */
export const DEFAULT_ABSTAIN_THRESHOLD = 0.5;
