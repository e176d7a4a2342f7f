import { describe, expect, it } from 'vitest';
import { MIN_CALIBRATION_IMAGES, calibrationFor, computeMetrics, expectedCalibrationError, fitTemperature, softmaxRows } from './metrics.js';
import { confusionCellOpacity, confusionSvg, trainingCurveSvg } from './plots.js';
import { Rng } from './rng.js';

describe('metrics', () => {
  it('top-1, balanced accuracy, per-class F1 and confusion on a known example', () => {
    // 3 of class a (2 right), 1 of class b (right).
    const probs = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.4, 0.6]);
    const m = computeMetrics(probs, [0, 0, 0, 1], ['a', 'b']);
    expect(m.top1).toBeCloseTo(0.75);
    expect(m.balancedAccuracy).toBeCloseTo((2 / 3 + 1) / 2);
    expect(m.confusion).toEqual([
      [2, 1],
      [0, 1],
    ]);
    expect(m.perClass['b']).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(m.macroF1).toBeCloseTo((0.8 + 2 / 3) / 2);
  });

  it('macro-F1 counts a class that is predicted but absent from the data, as scikit-learn does', () => {
    // Two images of a; the second is called b, a class with no images here. F1(a) = 2/3,
    // F1(b) = 0, F1(c) is undefined (neither true nor predicted) and left out.
    const probs = Float32Array.from([0.8, 0.1, 0.1, 0.2, 0.7, 0.1]);
    const m = computeMetrics(probs, [0, 0], ['a', 'b', 'c']);
    expect(m.macroF1).toBeCloseTo(1 / 3);
    expect(m.balancedAccuracy).toBeCloseTo(0.5);
  });

  it('ECE is zero for calibrated confidences and large for overconfident ones', () => {
    const calibrated = Float32Array.from([1, 0, 1, 0, 0, 1]);
    expect(expectedCalibrationError(calibrated, [0, 0, 1], 2)).toBeCloseTo(0);
    const overconfident = Float32Array.from([0.99, 0.01, 0.99, 0.01]);
    expect(expectedCalibrationError(overconfident, [0, 1], 2)).toBeCloseTo(0.49, 2);
  });

  it('temperature scaling recovers the temperature that generated the labels', () => {
    const rng = new Rng(5);
    const k = 4;
    const n = 3000;
    const logits = new Float32Array(n * k);
    const targets: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) logits[i * k + j] = rng.normal() * 3;
      // Sample the label from softmax(logits / 2): the true temperature is 2.
      const p = softmaxRows(logits.subarray(i * k, i * k + k), k, 2);
      let u = rng.next();
      let t = 0;
      while (t < k - 1 && u > p[t]!) u -= p[t++]!;
      targets.push(t);
    }
    expect(fitTemperature(logits, targets, k)).toBeGreaterThan(1.7);
    expect(fitTemperature(logits, targets, k)).toBeLessThan(2.3);
    const fit = calibrationFor(logits, targets, k);
    expect(fit.fitted).toBe(true);
    expect(fit.temperature).toBeCloseTo(fitTemperature(logits, targets, k), 6);
  });

  it('fits no temperature on a small or separated validation set, where it would silence abstention', () => {
    const k = 4;
    // Every image right, at a modest margin: the NLL keeps falling as T -> 0.
    const separated = (n: number) => {
      const logits = new Float32Array(n * k);
      const targets: number[] = [];
      for (let i = 0; i < n; i++) {
        logits[i * k + (i % k)] = 1.5;
        targets.push(i % k);
      }
      return { logits, targets };
    };
    const small = separated(20);
    expect(fitTemperature(small.logits, small.targets, k)).toBeLessThan(0.26);
    expect(calibrationFor(small.logits, small.targets, k)).toEqual({ temperature: 1, fitted: false, why: expect.stringMatching(/^20 validation image\(s\), fewer than the 100/) });
    // Confidently wrong (60% of the images called another class at a margin of 10): softened as far
    // as the bound allows, not left at 1.
    const wrong = separated(MIN_CALIBRATION_IMAGES * 2);
    for (let i = 0; i < wrong.targets.length; i++) if (i % 5 < 3) wrong.targets[i] = (wrong.targets[i]! + 1) % k;
    for (let i = 0; i < wrong.logits.length; i++) wrong.logits[i]! *= 10 / 1.5;
    const soft = calibrationFor(wrong.logits, wrong.targets, k);
    expect(soft.fitted).toBe(true);
    expect(soft.temperature).toBeGreaterThan(9.9);
    const big = separated(MIN_CALIBRATION_IMAGES * 3);
    expect(calibrationFor(big.logits, big.targets, k)).toEqual({ temperature: 1, fitted: false, why: expect.stringMatching(/ran to its bound \(T = 0\.25\)/) });
  });
});

describe('plots', () => {
  it('writes standalone SVG with no external references', () => {
    const svg = trainingCurveSvg([
      { epoch: 1, phase: 'full', trainLoss: 1.2, trainAcc: 0.5, valLoss: 1.1, valAcc: 0.6, valBalancedAcc: 0.55, lr: 1e-3, seconds: 3, imgPerSec: 20 },
      { epoch: 2, phase: 'full', trainLoss: 0.6, trainAcc: 0.8, valLoss: 0.7, valAcc: 0.8, valBalancedAcc: 0.78, lr: 5e-4, seconds: 3, imgPerSec: 21 },
    ]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<polyline');
    const cm = confusionSvg([[3, 1], [0, 4]], ['car_t', '<other>']);
    expect(cm).toContain('&lt;other&gt;');
    for (const s of [svg, cm]) expect(s).not.toMatch(/href=|<script|url\(/);
  });

  it('marks the saved epoch and zooms the accuracy axis to where the curves are', () => {
    const history = [0.6, 0.9, 0.97, 0.98].map((acc, i) => ({ epoch: i + 1, phase: 'full' as const, trainLoss: 1 - acc, trainAcc: acc, valLoss: 1 - acc, valAcc: acc, valBalancedAcc: acc, lr: 1e-3, seconds: 3, imgPerSec: 20 }));
    const svg = trainingCurveSvg(history, { bestEpoch: 3 });
    expect(svg).toContain('epoch 3, the weights saved');
    expect(svg).toContain('>60%<'); // the axis starts at the lowest tenth reached, not at 0%
    expect(svg).not.toContain('>0%<');
    expect(trainingCurveSvg(history)).not.toContain('the weights saved');
    // Without validation images the val curves are absent, not NaN coordinates.
    expect(trainingCurveSvg(history.map((h) => ({ ...h, valLoss: NaN, valAcc: NaN, valBalancedAcc: NaN })))).not.toContain('NaN');
  });

  it('tints every confusion error visibly, however small its share, and prints each row\'s recall', () => {
    expect(confusionCellOpacity(0, false)).toBe(0);
    expect(confusionCellOpacity(7 / 335, false)).toBeGreaterThan(0.3);
    expect(confusionCellOpacity(0.1, false)).toBe(1);
    expect(confusionCellOpacity(0.5, false)).toBe(1);
    expect(confusionCellOpacity(1, true)).toBe(1);
    const cm = confusionSvg([[328, 7], [0, 0]], ['neutrophil', 'ig']);
    expect(cm).toContain('>97.9%<');
    expect(cm).toContain('>–<'); // an empty row has no recall
    expect(cm).not.toContain('NaN');
  });
});
