import { describe, expect, it } from "vitest";
import { readReportContent } from "./content";

describe("signed report content", () => {
  it("reads the API's signed-report/1 shape", () => {
    const r = readReportContent({
      schema: "rcmnet.signed-report/1",
      differential: { total: 4, counted: 3, rows: [{ label: "car_t", count: 2, percent: 66.67 }, { label: "lymphocyte", count: 1, percent: 33.33 }], artifacts: 1, cartPercent: 66.67 },
      modelVersionIds: ["m1"],
      cells: [
        { label: "car_t", ai: { label: "car_t", abstained: false } },
        { label: "lymphocyte", ai: { label: "car_t", abstained: false } },
        { label: "unidentified", ai: { label: "car_t", abstained: true } },
        { label: "artifact", ai: null },
      ],
    });
    expect(r.rows.map((x) => [x.label, x.count, x.percent])).toEqual([
      ["car_t", 2, 66.67],
      ["lymphocyte", 1, 33.33],
      ["artifact", 1, null],
    ]);
    expect(r.total).toBe(4);
    expect(r.corrections).toBe(1);
    expect(r.modelVersionIds).toEqual(["m1"]);
  });

  it("survives garbage", () => {
    expect(readReportContent(null)).toEqual({ rows: [], total: null, counted: null, modelVersionIds: [], corrections: null, cartPercent: null });
  });
});
