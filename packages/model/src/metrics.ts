/** Classification metrics, calibration error and temperature scaling. */
import type { ClassMetrics, EvalMetrics } from './artifact.js';

export function softmaxRows(logits: Float32Array, k: number, temperature = 1): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]! / temperature);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[r * k + j]! / temperature - max);
      out[r * k + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) out[r * k + j]! /= sum;
  }
  return out;
}

function argmaxRow(p: Float32Array, r: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[r * k + j]! > p[r * k + best]!) best = j;
  return best;
}

/** Expected calibration error with equal-width confidence bins (15, as in Guo et al. 2017). */
export function expectedCalibrationError(probs: Float32Array, targets: number[], k: number, bins = 15): number {
  const conf = new Float64Array(bins);
  const acc = new Float64Array(bins);
  const count = new Float64Array(bins);
  targets.forEach((t, r) => {
    const pred = argmaxRow(probs, r, k);
    const c = probs[r * k + pred]!;
    const b = Math.min(bins - 1, Math.floor(c * bins));
    conf[b]! += c;
    acc[b]! += pred === t ? 1 : 0;
    count[b]!++;
  });
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += (count[b]! / targets.length) * Math.abs(acc[b]! / count[b]! - conf[b]! / count[b]!);
  return ece;
}

export function negativeLogLikelihood(probs: Float32Array, targets: number[], k: number): number {
  let s = 0;
  targets.forEach((t, r) => (s -= Math.log(Math.max(1e-12, probs[r * k + t]!))));
  return s / Math.max(1, targets.length);
}

export function computeMetrics(probs: Float32Array, targets: number[], labels: string[]): EvalMetrics {
  const k = labels.length;
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  targets.forEach((t, r) => {
    const p = argmaxRow(probs, r, k);
    confusion[t]![p]!++;
    if (p === t) correct++;
  });
  const perClass: Record<string, ClassMetrics> = {};
  // Balanced accuracy averages recall over the classes present in the truth; macro-F1 over
  // the classes present in the truth or the predictions (as scikit-learn does): a class the
  // model predicts but the data lacks (an 8-class model on CAR-T slides without basophils)
  // scores F1 0 there, rather than vanishing from the average and flattering it.
  let recallSum = 0;
  let f1Sum = 0;
  let present = 0;
  let f1Classes = 0;
  labels.forEach((label, i) => {
    const tp = confusion[i]![i]!;
    const support = confusion[i]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[i]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support };
    if (support) {
      recallSum += recall;
      present++;
    }
    if (support || predicted) {
      f1Sum += f1;
      f1Classes++;
    }
  });
  return {
    top1: targets.length ? correct / targets.length : 0,
    balancedAccuracy: present ? recallSum / present : 0,
    macroF1: f1Classes ? f1Sum / f1Classes : 0,
    perClass,
    confusion,
    ece: expectedCalibrationError(probs, targets, k),
    nll: negativeLogLikelihood(probs, targets, k),
    count: targets.length,
  };
}

/** Fewer validation images than this fit no temperature: one small patient's cells, all right, would set it. */
export const MIN_CALIBRATION_IMAGES = 100;
const T_MIN = 0.25;
const T_MAX = 10;

export type TemperatureFit = { temperature: number; fitted: true } | { temperature: 1; fitted: false; why: string };

/**
 * The temperature a model is saved with. Fitted only on enough validation images, and not kept
 * when the fit ran to T_MIN: the validation set is then (nearly) separated, where NLL keeps falling
 * as T -> 0. Such a T would turn 0.55 into 0.95, so the model would hardly ever abstain and
 * uncertain cells would not reach a hematologist. A fit run to T_MAX is kept: a model confidently
 * wrong on validation is to be softened as far as allowed, never shipped at T = 1.
 */
export function calibrationFor(logits: Float32Array, targets: number[], k: number): TemperatureFit {
  if (targets.length < MIN_CALIBRATION_IMAGES) {
    return { temperature: 1, fitted: false, why: `${targets.length} validation image(s), fewer than the ${MIN_CALIBRATION_IMAGES} a temperature is fitted on` };
  }
  const t = fitTemperature(logits, targets, k);
  // Golden-section search ends within ~1e-8 of a bound when the minimum lies beyond it.
  if (t <= T_MIN * 1.01) {
    return { temperature: 1, fitted: false, why: `the fit ran to its bound (T = ${t.toFixed(2)}): the validation images are (nearly) all separated, so they do not say how sure the model should be` };
  }
  return { temperature: t, fitted: true };
}

/**
 * Temperature scaling (Guo et al. 2017): one scalar T minimising validation NLL of
 * softmax(logits / T); golden-section search on log T (the NLL is unimodal in T).
 */
export function fitTemperature(logits: Float32Array, targets: number[], k: number): number {
  if (!targets.length) return 1;
  const nll = (logT: number) => negativeLogLikelihood(softmaxRows(logits, k, Math.exp(logT)), targets, k);
  // Bounded: on perfectly separated validation data the NLL keeps falling as T -> 0,
  // which would make every later prediction look certain.
  let a = Math.log(T_MIN);
  let b = Math.log(T_MAX);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(c);
  let fd = nll(d);
  for (let i = 0; i < 40; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(d);
    }
  }
  return Math.exp((a + b) / 2);
}
