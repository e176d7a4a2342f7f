import { describe, expect, it } from "vitest";
import { accuracyDomain, classColour, confusionCellOpacity, extent, linePath, linearScale, niceTicks, normaliseRows } from "./scale";

describe("chart scales", () => {
  it("maps domain to range, inverted y included", () => {
    const y = linearScale([0, 1], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(1)).toBe(0);
    expect(y(0.25)).toBe(150);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });

  it("makes round ticks", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 37, 4)).toEqual([0, 10, 20, 30]);
    expect(niceTicks(1, 20, 5)).toEqual([5, 10, 15, 20]);
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(NaN, 1)).toEqual([]);
  });

  it("computes extents and skips gaps in paths", () => {
    expect(extent([3, NaN, 1, 2])).toEqual([1, 3]);
    expect(extent([])).toEqual([0, 1]);
    expect(linePath([{ x: 0, y: 0 }, { x: 1, y: NaN }, { x: 2, y: 2 }, { x: 3, y: 3 }])).toBe("M0.0,0.0M2.0,2.0L3.0,3.0");
  });

  it("normalises confusion-matrix rows", () => {
    expect(normaliseRows([[3, 1], [0, 0]])).toEqual([[0.75, 0.25], [0, 0]]);
  });

  it("tints every confusion error visibly, however small its share", () => {
    expect(confusionCellOpacity(0, false)).toBe(0);
    expect(confusionCellOpacity(7 / 335, false)).toBeGreaterThan(0.3);
    expect(confusionCellOpacity(0.1, false)).toBe(1);
    expect(confusionCellOpacity(1, true)).toBe(1);
  });

  it("zooms the accuracy axis to the lowest tenth the curves reach", () => {
    expect(accuracyDomain([0.66, 0.95, 0.982])).toEqual([0.6, 1]);
    expect(accuracyDomain([0.99, 1])).toEqual([0.9, 1]);
    expect(accuracyDomain([0.05, NaN])).toEqual([0, 1]);
    expect(accuracyDomain([])).toEqual([0, 1]);
  });

  it("gives each class a stable colour", () => {
    expect(classColour(["a", "b"], "b")).toBe(classColour(["a", "b"], "b"));
    expect(classColour(["a", "b"], "a")).not.toBe(classColour(["a", "b"], "b"));
    expect(classColour(["a"], "zzz")).toBe("#555555");
    // A canonical class keeps its colour whatever else is registered; categories have their own.
    expect(classColour(["car_t", "eosinophil"], "eosinophil")).toBe(classColour(["basophil", "eosinophil", "ig", "platelet"], "eosinophil"));
    const all = ["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "ig", "erythroblast", "platelet", "blast", "unidentified", "artifact"];
    expect(new Set(all.map((l) => classColour(all, l))).size).toBe(all.length);
    // Blast, offered on every review page, has its own colour: it neither shifts the canonical
    // classes' (platelet keeps the ninth) nor takes the first colour of a model's other labels.
    expect(classColour(all, "platelet")).toBe("#7f7f7f");
    expect(classColour(["blast", "zeta"], "blast")).not.toBe(classColour(["blast", "zeta"], "zeta"));
  });
});
