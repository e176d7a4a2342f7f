import { describe, expect, it } from "vitest";
import { evaluatePredictions, macroF1Of, servedMetrics, withCurrentMacroF1, withModelClasses } from "./evaluation.ts";
import { decodeItemCalls, itemOrderSha256 } from "./itemCalls.ts";

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

  it("counts a class only the model predicted as an F1 of 0, as the model card's macro-F1 does", () => {
    const m = evaluatePredictions(["a", "a"], [
      { label: "a", abstained: false },
      { label: "b", abstained: false },
    ]);
    expect(m.confusion.predictedLabels).toEqual(["a", "b", "unidentified"]);
    // F1(a) = 2/3, F1(b) = 0 (predicted, never true): the mean over both.
    expect(m.macroF1).toBeCloseTo(1 / 3);
    expect(macroF1Of(m.confusion)).toBeCloseTo(1 / 3);
  });

  it("serves stored metrics with today's macro-F1, whatever they were stored with", () => {
    const m = evaluatePredictions(["a", "a"], [
      { label: "a", abstained: false },
      { label: "b", abstained: false },
    ]);
    const stored = { top1: 0.9, test: { ...m, macroF1: 2 / 3 }, champion: { ...m, macroF1: 2 / 3 }, evaluations: { s1: { ...m, macroF1: 2 / 3 }, bare: { macroF1: 0.5 } } };
    const served = withCurrentMacroF1(stored) as typeof stored;
    expect(served.test.macroF1).toBeCloseTo(1 / 3);
    expect(served.champion.macroF1).toBeCloseTo(1 / 3);
    expect(served.evaluations.s1.macroF1).toBeCloseTo(1 / 3);
    // Without a confusion matrix to read it from, the stored figure stands.
    expect(served.evaluations.bare.macroF1).toBe(0.5);
    expect(served.top1).toBe(0.9);
  });

  it("gives each class of the model a row, support 0 and listed as untested, where the TEST part has no cell of it", () => {
    const predicted = [
      { label: "a", abstained: false },
      { label: "b", abstained: false },
      { label: "b", abstained: false },
    ];
    const m = evaluatePredictions(["a", "b", "b"], predicted, ["a", "b", "eosinophil"]);
    expect(m.perClass.eosinophil).toEqual({ precision: 0, recall: null, f1: 0, support: 0 });
    expect(m.untestedLabels).toEqual(["eosinophil"]);
    expect(m.confusion.labels).toEqual(["a", "b", "eosinophil"]);
    expect(m.confusion.matrix[2]).toEqual([0, 0, 0, 0]);
    // Macro-F1 keeps its meaning: an untested class the model never called is left out (the same
    // figure as without its row); one it called is an error, F1 0, as before.
    expect(m.macroF1).toBeCloseTo(evaluatePredictions(["a", "b", "b"], predicted).macroF1);
    expect(m.macroF1).toBe(1);
    const called = evaluatePredictions(["a", "a"], [{ label: "a", abstained: false }, { label: "eosinophil", abstained: false }], ["a", "eosinophil"]);
    expect(called.untestedLabels).toEqual(["eosinophil"]);
    expect(called.macroF1).toBeCloseTo(1 / 3);
    // A stored evaluation made without the model's classes reads the same once they are named.
    const stored = evaluatePredictions(["a", "b", "b"], predicted);
    expect(withModelClasses(stored, ["a", "b", "eosinophil"])).toEqual(m);
  });

  it("keeps each TEST item's call, given the items' ids, and serves metrics without them", () => {
    const predicted = [
      { label: "a", abstained: false },
      { label: "b", abstained: true },
      { label: "a", abstained: false },
    ];
    const m = evaluatePredictions(["a", "b", "b"], predicted, ["a", "b"], ["cell-1", "cell-2", "cell-3"]);
    expect(decodeItemCalls(m.items)).toEqual({ itemsSha256: itemOrderSha256(["cell-1", "cell-2", "cell-3"]), truth: ["a", "b", "b"], called: ["a", null, "a"] });
    // The figures are those without ids.
    const { items: _calls, ...figures } = m;
    expect(figures).toEqual(evaluatePredictions(["a", "b", "b"], predicted, ["a", "b"]));
    // Only the server pairs them: the dashboard's metrics leave them out, wherever they are kept.
    const served = servedMetrics({ test: m, champion: m, evaluations: { s1: m } }) as Record<string, unknown> & { evaluations: Record<string, unknown> };
    for (const e of [served.test, served.champion, served.evaluations.s1]) {
      expect(e).not.toHaveProperty("items");
      expect(e).toMatchObject({ accuracy: m.accuracy, count: 3 });
    }
  });

  it("refuses mismatched inputs", () => {
    expect(() => evaluatePredictions(["a"], [])).toThrow(/length/);
    expect(() => evaluatePredictions(["a"], [{ label: "a", abstained: false }], [], ["x", "y"])).toThrow(/item ids/);
  });
});
