import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "./evaluation.ts";

describe("evaluatePredictions", () => {
  it("computes accuracy, per-class F1 and a confusion matrix with an unidentified column", () => {
    const truth = ["a", "a", "b", "b"];
    const m = evaluatePredictions(truth, [
      { label: "a", abstained: false },
      { label: "b", abstained: false },
      { label: "b", abstained: false },
      { label: "b", abstained: true },
    ]);
    expect(m.accuracy).toBe(0.5);
    expect(m.abstained).toBe(1);
    expect(m.confusion.labels).toEqual(["a", "b"]);
    expect(m.confusion.predictedLabels).toEqual(["a", "b", "unidentified"]);
    expect(m.confusion.matrix).toEqual([
      [1, 1, 0],
      [0, 1, 1],
    ]);
    expect(m.perClass.a).toEqual({ precision: 1, recall: 0.5, f1: 2 / 3, support: 2 });
    expect(m.perClass.b!.precision).toBe(0.5);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.5) / 2);
  });

  it("refuses mismatched inputs", () => {
    expect(() => evaluatePredictions(["a"], [])).toThrow(/length/);
  });
});
