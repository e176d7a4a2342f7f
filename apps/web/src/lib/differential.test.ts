import { describe, expect, it } from "vitest";
import { leftOutWarning, rowPercentText, unidentifiedCount } from "./differential";

describe("leftOutWarning", () => {
  it("warns from a tenth of the white cells and unidentified cells together, counting every spelling", () => {
    expect(leftOutWarning([{ label: "unidentified", count: 9 }], 91)).toBeNull();
    expect(leftOutWarning([{ label: "unidentified", count: 10 }], 90)).toEqual({ count: 10, of: 100, percent: 10 });
    expect(leftOutWarning([{ label: "Unidentified", count: 4 }], 1)).toEqual({ count: 4, of: 5, percent: 80 });
    expect(leftOutWarning([], 0)).toBeNull();
    expect(unidentifiedCount([{ label: "unidentified", count: 2 }, { label: "Unidentified", count: 1 }, { label: "artifact", count: 5 }])).toBe(3);
  });

  it("does not let artifacts, platelets and nucleated red cells dilute the share", () => {
    // 12 unidentified beside 90 white cells is 11.8%; over every object (132) it would be 9.1%.
    const excluded = [
      { label: "unidentified", count: 12 },
      { label: "artifact", count: 25 },
      { label: "platelet", count: 3 },
      { label: "erythroblast", count: 2 },
    ];
    expect(leftOutWarning(excluded, 90)).toEqual({ count: 12, of: 102, percent: 11.8 });
  });
});

describe("rowPercentText", () => {
  it("prints no share where no white cell was counted: a dash, never 0.0%", () => {
    // No white cell counted (every cell an artifact or left unidentified): the API signs null shares.
    expect(rowPercentText({ label: "car_t", count: 0, percent: null })).toBe("—");
    expect(rowPercentText({ label: "lymphocyte", count: 0, percent: null }, false)).toBe("—");
  });

  it("keeps 'excl.' for the classes outside the denominator and prints shares as before", () => {
    expect(rowPercentText({ label: "artifact", count: 3, percent: null })).toBe("excl.");
    expect(rowPercentText({ label: "Unidentified", count: 2, percent: null })).toBe("excl.");
    expect(rowPercentText({ label: "car_t", count: 0, percent: null }, true)).toBe("excl.");
    expect(rowPercentText({ label: "car_t", count: 3, percent: 42.9 })).toBe("42.9%");
    expect(rowPercentText({ label: "car_t", count: 1, percent: 0 })).toBe("<0.1%");
    expect(rowPercentText({ label: "basophil", count: 0, percent: 0 })).toBe("0.0%");
  });

  it("prints a 0 signed before the fix as it was signed (a signed record is never rewritten)", () => {
    expect(rowPercentText({ label: "car_t", count: 0, percent: 0 }, false)).toBe("0.0%");
  });
});
