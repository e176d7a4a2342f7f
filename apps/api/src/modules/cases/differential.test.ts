import { describe, expect, it } from "vitest";
import { computeDifferential } from "./differential.ts";
import { percentsSummingTo100, wilson95 } from "./whiteCellDifferential.ts";

describe("computeDifferential", () => {
  it("counts white cells only in the denominator; artifacts, platelets, nucleated red cells and unidentified cells apart", () => {
    const d = computeDifferential([
      { label: "car_t", count: 30, reviewed: 30 },
      { label: "lymphocyte", count: 60, reviewed: 50 },
      { label: "neutrophil", count: 10, reviewed: 10 },
      { label: "unidentified", count: 10, reviewed: 10 },
      { label: "platelet", count: 7, reviewed: 7 },
      { label: "erythroblast", count: 4, reviewed: 4 },
      { label: "artifact", count: 5, reviewed: 5 },
      { label: null, count: 2, reviewed: 0 },
    ]);
    expect(d.total).toBe(128);
    expect(d.counted).toBe(100);
    expect(d.rows).toEqual([
      { label: "lymphocyte", count: 60, percent: 60 },
      { label: "car_t", count: 30, percent: 30 },
      { label: "neutrophil", count: 10, percent: 10 },
    ]);
    expect(d.excluded).toEqual([
      { label: "artifact", count: 5 },
      { label: "platelet", count: 7 },
      { label: "erythroblast", count: 4 },
      { label: "unidentified", count: 10 },
    ]);
    expect(d).toMatchObject({ artifacts: 5, unlabelled: 2, unreviewed: 12, cartCount: 30, cartPercent: 30 });
    // CAR-T cells are lymphocytes: 90 of 100 white cells, a third of them CAR-T.
    expect(d.lymphocytePercent).toBe(90);
    expect(d.cartPercentOfLymphocytes).toBe(33.3);
    expect(d.nrbcPer100Wbc).toBe(4);
    expect(d.cartPercentCi95).toEqual([21.9, 39.6]);
    expect(d.belowMinimum).toBe(false);
  });

  it("prints percentages that add up to 100, and flags a count under 100 white cells with a wide interval", () => {
    const d = computeDifferential([
      { label: "car_t", count: 1, reviewed: 1 },
      { label: "lymphocyte", count: 1, reviewed: 1 },
      { label: "monocyte", count: 1, reviewed: 1 },
    ]);
    expect(d.rows.map((r) => r.percent)).toEqual([33.4, 33.3, 33.3]);
    expect(d.rows.reduce((s, r) => s + r.percent, 0)).toBeCloseTo(100, 10);
    expect(d.cartPercent).toBe(33.4);
    expect(d.belowMinimum).toBe(true);
    expect(d.cartPercentCi95).toEqual([6.1, 79.2]);
  });

  it("is all zeros for an empty case (no division by zero), and not evaluable", () => {
    const d = computeDifferential([{ label: "artifact", count: 3, reviewed: 3 }]);
    expect(d).toMatchObject({ total: 3, counted: 0, cartPercent: 0, rows: [], cartPercentCi95: null, cartPercentOfLymphocytes: null, nrbcPer100Wbc: null, belowMinimum: true });
  });
});

describe("percentsSummingTo100 and wilson95", () => {
  it("gives the largest remainders the spare tenths, in order on ties", () => {
    expect(percentsSummingTo100([1, 1, 1])).toEqual([33.4, 33.3, 33.3]);
    expect(percentsSummingTo100([2, 1])).toEqual([66.7, 33.3]);
    expect(percentsSummingTo100([0, 0])).toEqual([0, 0]);
    const many = percentsSummingTo100([7, 13, 29, 1, 50, 3]);
    expect(Math.round(many.reduce((s, p) => s + p, 0) * 10)).toBe(1000);
  });

  it("matches the textbook Wilson interval, and stays inside 0-100", () => {
    // 2 of 100: 0.55% to 7.0%.
    expect(wilson95(2, 100)).toEqual([0.6, 7]);
    expect(wilson95(0, 50)).toEqual([0, 7.1]);
    expect(wilson95(10, 10)).toEqual([72.2, 100]);
    expect(wilson95(0, 0)).toBeNull();
  });
});
