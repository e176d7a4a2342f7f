import { describe, expect, it } from "vitest";
import { leftOutWithoutPatientText } from "./leftOut";

describe("the cases a snapshot left out for want of a patient study id", () => {
  it("counts the cases and their cells, and says how to use them", () => {
    expect(leftOutWithoutPatientText(3, 41)).toBe(
      "3 cases (41 cells) left out: no patient study id — enter the study id on each case and take a new snapshot to use them",
    );
    expect(leftOutWithoutPatientText(1, 1)).toBe("1 case (1 cell) left out: no patient study id — enter the study id on the case and take a new snapshot to use it");
  });

  it("says nothing where none was left out, or for a snapshot taken before cases were (null)", () => {
    expect(leftOutWithoutPatientText(0, 0)).toBeNull();
    expect(leftOutWithoutPatientText(null, null)).toBeNull();
  });

  it("gives the cases alone where their cells are not recorded", () => {
    expect(leftOutWithoutPatientText(2, null)).toBe("2 cases left out: no patient study id — enter the study id on each case and take a new snapshot to use them");
  });
});
