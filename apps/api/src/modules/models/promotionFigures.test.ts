import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../jobs/model/evaluation.ts";
import { figuresOf } from "./promotionFigures.ts";

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
});
