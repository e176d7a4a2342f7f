// What the jobs need from the model package, as a narrow interface. The worker's handlers are
// written against this, so a change in @rcmnet/model touches one adapter file
// (modelRuntime.ts), and handler tests could swap the runtime if they ever needed to.

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
  abstainThreshold?: number;
}

/** Label shown for cells the model abstains on; never a training label. */
export const UNIDENTIFIED = "unidentified";
export const ARTIFACT = "artifact";
/** Used when a model card recommends no threshold of its own. */
export const DEFAULT_ABSTAIN_THRESHOLD = 0.5;
