import { describe, expect, it } from "vitest";
import { computeDifferential } from "./differential.ts";
import { absoluteCounts, isPeripheralBlood, percentsSummingTo100, screensForCart, SPECIMEN_SUGGESTIONS, whiteCellDifferential, wilson95 } from "./whiteCellDifferential.ts";

/** A model with a CAR-T class, platelets and nucleated red cells (and no unidentified or artifact class). */
const CART_MODEL = ["basophil", "car_t", "erythroblast", "lymphocyte", "monocyte", "neutrophil", "platelet"];

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
    ], [CART_MODEL]);
    expect(d.total).toBe(128);
    expect(d.counted).toBe(100);
    // In the fixed class order whatever the counts, and every class the model can call listed,
    // at 0 where no cell has it: "no basophils" is a finding, a missing row is not.
    expect(d.rows).toEqual([
      { label: "car_t", count: 30, percent: 30 },
      { label: "lymphocyte", count: 60, percent: 60 },
      { label: "neutrophil", count: 10, percent: 10 },
      { label: "monocyte", count: 0, percent: 0 },
      { label: "basophil", count: 0, percent: 0 },
    ]);
    expect(d.excluded).toEqual([
      { label: "artifact", count: 5 },
      { label: "platelet", count: 7 },
      { label: "erythroblast", count: 4 },
      { label: "unidentified", count: 10 },
    ]);
    expect(d).toMatchObject({ artifacts: 5, unlabelled: 2, unreviewed: 12, cartCount: 30, cartPercent: 30 });
    // Artifacts however a model spells them, all counted.
    const spelled = computeDifferential([{ label: "artifact", count: 2, reviewed: 2 }, { label: "Artifact", count: 3, reviewed: 3 }], [CART_MODEL]);
    expect(spelled.artifacts).toBe(5);
    // CAR-T cells are lymphocytes: 90 of 100 white cells, a third of them CAR-T.
    expect(d.lymphocytePercent).toBe(90);
    expect(d.cartPercentOfLymphocytes).toBe(33.3);
    expect(d.nrbcPer100Wbc).toBe(4);
    expect(d.cartPercentCi95).toEqual([21.8, 39.6]);
    expect(d.belowMinimum).toBe(false);
  });

  it("prints percentages that add up to 100, and flags a count under 100 white cells with a wide interval", () => {
    const d = computeDifferential([
      { label: "car_t", count: 1, reviewed: 1 },
      { label: "lymphocyte", count: 1, reviewed: 1 },
      { label: "monocyte", count: 1, reviewed: 1 },
    ], [["car_t", "lymphocyte", "monocyte"]]);
    expect(d.rows.map((r) => r.percent)).toEqual([33.4, 33.3, 33.3]);
    expect(d.rows.reduce((s, r) => s + (r.percent ?? Number.NaN), 0)).toBeCloseTo(100, 10);
    expect(d.cartPercent).toBe(33.4);
    expect(d.belowMinimum).toBe(true);
    expect(d.cartPercentCi95).toEqual([6.1, 79.3]);
  });

  it("counts a hematologist's blasts among the white cells, after IG, and lists them only where a cell has one", () => {
    // A model with a class outside the fixed order: listed after blast, not before it alphabetically.
    const pbc = ["atypical_lymphocyte", "basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"];
    const d = computeDifferential(
      [
        { label: "neutrophil", count: 40, reviewed: 40 },
        { label: "blast", count: 8, reviewed: 8 },
        { label: "ig", count: 2, reviewed: 2 },
        { label: "erythroblast", count: 5, reviewed: 5 },
      ],
      [pbc],
    );
    expect(d.counted).toBe(50);
    expect(d.rows.map((r) => [r.label, r.count, r.percent])).toEqual([
      ["lymphocyte", 0, 0],
      ["neutrophil", 40, 80],
      ["monocyte", 0, 0],
      ["eosinophil", 0, 0],
      ["basophil", 0, 0],
      ["ig", 2, 4],
      ["blast", 8, 16],
      ["atypical_lymphocyte", 0, 0],
    ]);
    expect(d.nrbcPer100Wbc).toBe(10);
    expect(computeDifferential([{ label: "neutrophil", count: 1, reviewed: 1 }], [pbc]).rows.map((r) => r.label)).not.toContain("blast");
  });

  it("gives no share for an empty case, null and never 0 (nothing was measured), and is not evaluable", () => {
    // Every cell an artifact or left unidentified, and the case signed: no white cell was counted,
    // so "CAR-T cell 0 | 0.0%" would be a measurement nobody made (docs/decisions.md D6).
    const d = computeDifferential([{ label: "artifact", count: 3, reviewed: 3 }, { label: "unidentified", count: 2, reviewed: 2 }], [["car_t", "lymphocyte"]]);
    expect(d).toMatchObject({
      total: 5, counted: 0, cartAssessed: true, cartCount: 0, cartPercent: null, cartPercentCi95: null, lymphocytePercent: null, cartPercentOfLymphocytes: null, nrbcPer100Wbc: null, belowMinimum: true,
      rows: [{ label: "car_t", count: 0, percent: null }, { label: "lymphocyte", count: 0, percent: null }],
      excluded: [{ label: "artifact", count: 3 }, { label: "unidentified", count: 2 }],
    });
    expect(absoluteCounts({ specimen: "peripheral blood", wbcCount: 5, fromCrops: false }, d)).toBeNull();
    // Not assessed either way, and with no rows at all.
    expect(whiteCellDifferential([{ label: "erythroblast", count: 2 }], false, ["lymphocyte"])).toMatchObject({ counted: 0, rows: [{ label: "lymphocyte", count: 0, percent: null }], cartPercent: null, lymphocytePercent: null });
    expect(whiteCellDifferential([], true)).toMatchObject({ counted: 0, rows: [], cartPercent: null, cartPercentCi95: null, lymphocytePercent: null });
  });
});

describe("cells not screened for CAR-T", () => {
  it("are screened only when every model that classified them has a CAR-T class", () => {
    const pbc = ["basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"];
    expect(screensForCart([[...pbc, "car_t"]])).toBe(true);
    expect(screensForCart([[...pbc, "CAR-T"], [...pbc, "car_t"]])).toBe(true);
    expect(screensForCart([pbc])).toBe(false);
    expect(screensForCart([[...pbc, "car_t"], pbc])).toBe(false);
    expect(screensForCart([])).toBe(false);
  });

  it("give no CAR-T share, interval or count per µL (null, not 0); lymphocytes are still counted", () => {
    const d = whiteCellDifferential([{ label: "lymphocyte", count: 40 }, { label: "neutrophil", count: 60 }], false);
    expect(d).toMatchObject({ cartAssessed: false, cartCount: 0, cartPercent: null, cartPercentCi95: null, cartPercentOfLymphocytes: null, lymphocytePercent: 40 });
    const a = absoluteCounts({ specimen: "peripheral blood", wbcCount: 5, fromCrops: false }, d)!;
    expect(a).toMatchObject({ wbcPerUl: 5000, cartPerUl: null, cartPerUlCi95: null, lymphocytesPerUl: 2000 });
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

  it("matches the textbook Wilson interval rounded outwards, and stays inside 0-100", () => {
    // 2 of 100: 0.55% to 7.0%, rounded outwards.
    expect(wilson95(2, 100)).toEqual([0.5, 7.1]);
    expect(wilson95(0, 50)).toEqual([0, 7.2]);
    expect(wilson95(10, 10)).toEqual([72.2, 100]);
    expect(wilson95(0, 0)).toBeNull();
  });
});

describe("labels as models spell them, and absolute counts", () => {
  it("keeps platelets and nucleated red cells out of the denominator whatever their case", () => {
    const d = whiteCellDifferential([
      { label: "car_t", count: 1 },
      { label: "Lymphocyte", count: 49 },
      { label: "Platelet", count: 40 },
      { label: "Erythroblast", count: 5 },
      { label: "neutrophil", count: 50 },
    ], true);
    expect(d.counted).toBe(100);
    expect(d.cartPercentOfLymphocytes).toBe(2);
    expect(d.lymphocytePercent).toBe(50);
    expect(d.nrbcPer100Wbc).toBe(5);
  });

  it("gives cells per µL from ×10⁹/L with the share's interval carried over, none without a count", () => {
    const d = whiteCellDifferential([{ label: "car_t", count: 1 }, { label: "lymphocyte", count: 19 }], true);
    const a = absoluteCounts({ specimen: "peripheral blood", wbcCount: 8, fromCrops: false }, d)!;
    // 1 of 20 white cells at 8,000/µL: 400/µL, and the interval says how little that is worth.
    expect(a).toMatchObject({ wbcPerUl: 8000, cartPerUl: 400, lymphocytesPerUl: 8000 });
    expect(a.cartPerUlCi95![0]).toBeLessThan(100);
    expect(a.cartPerUlCi95![1]).toBeGreaterThan(1500);
    expect(absoluteCounts({ specimen: "peripheral blood", wbcCount: null, fromCrops: false }, d)).toBeNull();
    expect(absoluteCounts({ specimen: "peripheral blood", wbcCount: 8, fromCrops: false }, whiteCellDifferential([{ label: "artifact", count: 2 }], true))).toBeNull();
  });

  it("gives all lymphocytes as the sum of the printed lymphocyte and CAR-T rows", () => {
    // Sixths: rows of 16.7, 16.7 and 66.6; the exact 2/6 = 33.33 would print as 33.3 beside two
    // rows adding up to 33.4.
    const d = whiteCellDifferential([{ label: "car_t", count: 1 }, { label: "lymphocyte", count: 1 }, { label: "neutrophil", count: 4 }], true);
    expect(d.rows.map((r) => r.percent)).toEqual([16.7, 16.7, 66.6]);
    const rowSum = d.rows.filter((r) => r.label !== "neutrophil").reduce((s, r) => s + (r.percent ?? Number.NaN), 0);
    expect(d.lymphocytePercent).toBeCloseTo(rowSum, 6);
    expect(d.lymphocytePercent).toBe(33.4);
  });

  it("gives absolute counts for peripheral blood only: a marrow's or a fluid's count is not per µL of blood", () => {
    const d = whiteCellDifferential([{ label: "car_t", count: 1 }, { label: "lymphocyte", count: 19 }], true);
    for (const specimen of ["peripheral blood", "Peripheral  Blood", "PB", "whole blood (EDTA)", "venous blood", "blood"]) {
      expect(absoluteCounts({ specimen, wbcCount: 8, fromCrops: false }, d), specimen).not.toBeNull();
    }
    for (const specimen of [null, "", "bone marrow aspirate", "cerebrospinal fluid", "apheresis product", "blood culture", "marrow blood"]) {
      expect(absoluteCounts({ specimen, wbcCount: 8, fromCrops: false }, d), String(specimen)).toBeNull();
    }
    // Crops were chosen by a person: their shares are not a differential, so not scaled to blood.
    expect(absoluteCounts({ specimen: "peripheral blood", wbcCount: 8, fromCrops: true }, d)).toBeNull();
    expect(isPeripheralBlood(SPECIMEN_SUGGESTIONS[0])).toBe(true);
    expect(SPECIMEN_SUGGESTIONS.slice(1).some(isPeripheralBlood)).toBe(false);
  });
});
