import { describe, expect, it } from "vitest";
import { isRetraction, meaningsFor, RETRACTION_MEANING, SIGN_OFF_MEANINGS } from "./meanings.ts";

describe("signature meanings", () => {
  it("offers a retraction to amendments only, never first while a result can be signed", () => {
    expect(meaningsFor({ amendment: false, corrected: false })).toEqual(["Reviewed and approved", "Reviewed and approved with corrections"]);
    expect(meaningsFor({ amendment: false, corrected: true })).toEqual(["Reviewed and approved with corrections"]);
    expect(meaningsFor({ amendment: true, corrected: false })).toEqual([
      "Amended report: reviewed and approved",
      "Amended report: reviewed and approved with corrections",
      RETRACTION_MEANING,
    ]);
    expect(meaningsFor({ amendment: true, corrected: true })).toEqual(["Amended report: reviewed and approved with corrections", RETRACTION_MEANING]);
  });

  it("with no cell to sign, an amendment can only retract and a first report fits nothing", () => {
    expect(meaningsFor({ amendment: true, corrected: false, empty: true })).toEqual([RETRACTION_MEANING]);
    expect(meaningsFor({ amendment: false, corrected: false, empty: true })).toEqual([]);
  });

  it("keeps the retraction on the controlled list, told apart by its exact words", () => {
    expect(SIGN_OFF_MEANINGS).toContain("Amended report: retracted, no valid result");
    expect(isRetraction(RETRACTION_MEANING)).toBe(true);
    expect(SIGN_OFF_MEANINGS.filter(isRetraction)).toHaveLength(1);
    expect(isRetraction(null)).toBe(false);
  });
});
