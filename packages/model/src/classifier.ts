/**
 * The inference interface the API and worker use: `loadModel(dir)` returns a
 * `CellClassifier`. Low-confidence cells are routed to "unidentified" (abstained) for
 * human review, as CellaVision does, instead of being forced into a class.
 */
import type { Network } from './architecture.js';
import { loadNetwork, type ModelCard } from './artifact.js';
import { initBackend, type BackendOptions } from './backend.js';
import { gradCam, overlayPng } from './gradcam.js';
import { decodeImage, resizeSquare, type ImageInput, type ImageLimits } from './image.js';
import { loadImages, logitsFor } from './inference.js';
import { softmaxRows } from './metrics.js';
import { checkAbstainThreshold } from './options.js';

export const UNIDENTIFIED = 'unidentified';

export interface Prediction {
  /** Predicted class, or "unidentified" when abstained. */
  label: string;
  /** The highest-probability class even when abstained (for the reviewer's hint). */
  topLabel: string;
  probabilities: Record<string, number>;
  /** Calibrated probability of `topLabel`. */
  confidence: number;
  abstained: boolean;
}

export interface PredictOptions extends ImageLimits {
  /**
   * Abstain below this confidence (default: the model card's, 0.5 unless trained otherwise). Must be
   * over 1/K and at most 1, or 0: never abstain (every cell gets its top class, e.g. to score it).
   */
  abstainThreshold?: number;
  batchSize?: number;
}

export interface ExplainOptions extends ImageLimits {
  /** Explain this class instead of the predicted one. */
  label?: string;
  /** Output side in pixels (default max(224, input size)). */
  size?: number;
  alpha?: number;
}

export interface CellClassifier {
  readonly labels: string[];
  readonly card: ModelCard;
  readonly inputSize: number;
  predict(images: ImageInput[], options?: PredictOptions): Promise<Prediction[]>;
  /** Grad-CAM overlay PNG for one cell image. */
  explain(image: ImageInput, options?: ExplainOptions): Promise<Buffer>;
  dispose(): void;
}

class Classifier implements CellClassifier {
  private disposed = false;

  constructor(
    private readonly net: Network,
    readonly card: ModelCard,
  ) {}

  get labels(): string[] {
    return this.card.labels;
  }

  get inputSize(): number {
    return this.card.inputSize;
  }

  private check(): void {
    if (this.disposed) throw new Error('CellClassifier used after dispose()');
  }

  async predict(images: ImageInput[], options: PredictOptions = {}): Promise<Prediction[]> {
    this.check();
    if (!Array.isArray(images)) throw new TypeError('predict() takes an array of images');
    const threshold = this.thresholdFor(options.abstainThreshold);
    const decoded = await loadImages(images, this.inputSize, options);
    const k = this.labels.length;
    const probs = softmaxRows(await logitsFor(this.net, decoded, this.card.normalization, options.batchSize ?? 32), k, this.card.calibration.temperature);
    return decoded.map((_, r) => {
      let best = 0;
      const probabilities: Record<string, number> = {};
      for (let j = 0; j < k; j++) {
        probabilities[this.labels[j]!] = probs[r * k + j]!;
        if (probs[r * k + j]! > probs[r * k + best]!) best = j;
      }
      const confidence = probs[r * k + best]!;
      // Written so that a NaN confidence (non-finite logits) abstains instead of passing as sure.
      const abstained = !(confidence >= threshold);
      const topLabel = this.labels[best]!;
      return { label: abstained ? UNIDENTIFIED : topLabel, topLabel, probabilities, confidence, abstained };
    });
  }

  /**
   * The threshold to abstain under: the card's unless one is asked for. The card's own is taken as
   * it is even when passed explicitly (the API passes it so): a two-class card written before
   * thresholds were checked holds 0.5, and the model must keep serving as it was registered.
   */
  private thresholdFor(asked: number | undefined): number {
    if (asked === undefined || asked === this.card.abstainThreshold) return this.card.abstainThreshold;
    if (asked !== 0) checkAbstainThreshold(asked, this.labels.length);
    return asked;
  }

  async explain(image: ImageInput, options: ExplainOptions = {}): Promise<Buffer> {
    this.check();
    const decoded = await decodeImage(image, options);
    const input = await resizeSquare(decoded, this.inputSize);
    let cls: number | undefined;
    if (options.label !== undefined) {
      cls = this.labels.indexOf(options.label);
      if (cls < 0) throw new Error(`Unknown label "${options.label}"; model labels: ${this.labels.join(', ')}`);
    }
    const cam = gradCam(this.net, input, this.card.normalization, cls);
    const base = await resizeSquare(decoded, options.size ?? Math.max(224, this.inputSize));
    return overlayPng(base, cam.map, cam.width, cam.height, options.alpha);
  }

  dispose(): void {
    if (!this.disposed) this.net.dispose();
    this.disposed = true;
  }
}

/** Loads a model directory (verifying the weights' sha256) on the chosen backend. */
export async function loadModel(dir: string, options: BackendOptions = {}): Promise<CellClassifier> {
  await initBackend(options);
  const { net, card } = await loadNetwork(dir);
  return new Classifier(net, card);
}
