import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../jobs/model/evaluation.ts";
import { pairEvaluations } from "./pairedComparison.ts";
import { describeRegression, figuresOf, regressionsOf, withRecallCi95 } from "./promotionFigures.ts";

describe("a model's figures for an approver", () => {
  it("state its abstentions beside top-1, where they count as wrong", () => {
    // 10 lymphocytes: 6 called right, 3 declined (abstained), 1 called a CAR-T cell.
    const truth = Array(10).fill("lymphocyte") as string[];
    const predicted = truth.map((t, i) => (i < 6 ? { label: t, abstained: false } : i < 9 ? { label: t, abstained: true } : { label: "car_t", abstained: false }));
    const f = figuresOf(evaluatePredictions(truth, predicted, ["car_t", "lymphocyte"]));
    expect(f).toMatchObject({ accuracy: 0.6, correct: 6, abstained: 3 });
  });

  it("say nothing they do not know", () => {
    expect(figuresOf(null)).toMatchObject({ accuracy: null, correct: null, abstained: null });
  });

  it("give each class's recall its Wilson interval: how little a few cells tell", () => {
    const truth = [...Array(4).fill("car_t"), ...Array(40).fill("lymphocyte")] as string[];
    const call = (label: string) => ({ label, abstained: false });
    // Champion: every cell right. Candidate: one CAR-T cell of 4 missed, every lymphocyte right.
    const champion = figuresOf(evaluatePredictions(truth, truth.map(call), ["car_t", "lymphocyte"]));
    const candidate = figuresOf(evaluatePredictions(truth, truth.map((t, i) => call(i === 0 ? "lymphocyte" : t)), ["car_t", "lymphocyte", "eosinophil"]));
    const recall = (f: typeof champion, label: string) => f.perClass!.find((c) => c.label === label)!;
    // wilson95 of 3 of 4 and 4 of 4, rounded outwards to a tenth of a point.
    expect(recall(candidate, "car_t")).toMatchObject({ recall: 0.75, support: 4, recallCi95: [0.3, 0.955] });
    expect(recall(champion, "car_t")).toMatchObject({ recall: 1, support: 4, recallCi95: [0.51, 1] });
    // Still a regression (below, by point estimate), and the intervals overlap widely (which is not a test).
    expect(regressionsOf(candidate, champion).map((r) => r.label)).toContain("car_t");
    expect(recall(candidate, "car_t").recallCi95![1]).toBeGreaterThan(recall(champion, "car_t").recallCi95![0]);
    // 40 of 40: the interval stays short of 100% below.
    expect(recall(champion, "lymphocyte").recallCi95).toEqual([0.912, 1]);
    // No TEST cell, no interval.
    expect(recall(candidate, "eosinophil")).toMatchObject({ recall: null, support: 0, recallCi95: null });
  });

  it("add to a class's recall below the champion's that class's cells only one model got right, with McNemar's mid-p, where the two were paired", () => {
    const ids = Array.from({ length: 14 }, (_, i) => `cell-${String(i).padStart(2, "0")}`);
    const truth = ids.map((_, i) => (i < 4 ? "car_t" : "lymphocyte"));
    const call = (label: string) => ({ label, abstained: false });
    // Champion: every cell right but one CAR-T cell. Candidate: every CAR-T cell, 6 of 10 lymphocytes.
    const champion = evaluatePredictions(truth, truth.map((t, i) => call(i === 0 ? "lymphocyte" : t)), [], ids);
    const candidate = evaluatePredictions(truth, truth.map((t, i) => call(i >= 4 && i < 8 ? "car_t" : t)), [], ids);
    const pairing = pairEvaluations(candidate, champion);
    if (pairing.status !== "PAIRED") throw new Error(pairing.note);
    const regressions = regressionsOf(figuresOf(candidate), figuresOf(champion), pairing.byClass);
    // Macro-F1 is no count of cells: no paired figures there. The lymphocytes: 0 against 4, mid-p 1/16.
    expect(regressions).toEqual([
      { measure: "macroF1", label: null, candidate: expect.any(Number), champion: expect.any(Number), support: null },
      {
        measure: "recall",
        label: "lymphocyte",
        candidate: 0.6,
        champion: 1,
        support: 10,
        paired: { candidateOnlyRight: 0, championOnlyRight: 4, mcnemarP: 0.0625, mcnemarTest: "MID_P" },
      },
    ]);
    expect(describeRegression(regressions[1]!)).toBe(
      "lymphocyte recall 60.0% against 100.0% (10 cells; only the candidate right on 0 of them, only the champion on 4, McNemar mid-p = 0.0625)",
    );
    // Not paired: the point estimates alone, as before.
    const unpaired = regressionsOf(figuresOf(candidate), figuresOf(champion));
    expect(unpaired[1]).not.toHaveProperty("paired");
    expect(describeRegression(unpaired[1]!)).toBe("lymphocyte recall 60.0% against 100.0% (10 cells)");
    // A frozen exact p is named as such.
    expect(describeRegression({ ...regressions[1]!, paired: { candidateOnlyRight: 0, championOnlyRight: 4, mcnemarP: 0.125, mcnemarTest: "EXACT" } })).toMatch(
      /only the champion on 4, exact McNemar p = 0\.125\)$/,
    );
  });

  it("give intervals to the recalls a proposal froze before intervals were recorded, from its recall and support", () => {
    expect(withRecallCi95([{ label: "car_t", recall: 0.75, support: 4 }, { label: "x", recall: null, support: 0 }])).toEqual([
      { label: "car_t", recall: 0.75, support: 4, recallCi95: [0.3, 0.955] },
      { label: "x", recall: null, support: 0, recallCi95: null },
    ]);
    // One frozen with its interval keeps it.
    expect(withRecallCi95([{ label: "car_t", recall: 0.75, support: 4, recallCi95: [0.2, 0.9] }])[0]!.recallCi95).toEqual([0.2, 0.9]);
  });
});
