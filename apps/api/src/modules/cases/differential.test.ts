import { describe, expect, it } from "vitest";
import { computeDifferential } from "./differential.ts";

describe("computeDifferential", () => {
  it("counts per class, excludes artifacts from the denominator, reports the CAR-T share", () => {
    const d = computeDifferential([
      { label: "car_t", count: 30, reviewed: 30 },
      { label: "lymphocyte", count: 60, reviewed: 50 },
      { label: "unidentified", count: 10, reviewed: 10 },
      { label: "artifact", count: 5, reviewed: 5 },
      { label: null, count: 2, reviewed: 0 },
    ]);
    expect(d.total).toBe(107);
    expect(d.counted).toBe(100);
    expect(d.artifacts).toBe(5);
    expect(d.unlabelled).toBe(2);
    expect(d.unreviewed).toBe(12);
    expect(d.rows).toEqual([
      { label: "lymphocyte", count: 60, percent: 60 },
      { label: "car_t", count: 30, percent: 30 },
      { label: "unidentified", count: 10, percent: 10 },
    ]);
    expect(d.cartCount).toBe(30);
    expect(d.cartPercent).toBe(30);
  });

  it("is all zeros for an empty case (no division by zero)", () => {
    const d = computeDifferential([]);
    expect(d).toMatchObject({ total: 0, counted: 0, cartPercent: 0, rows: [] });
  });
});
