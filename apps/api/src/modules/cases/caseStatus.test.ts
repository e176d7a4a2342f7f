import { describe, expect, it } from "vitest";
import { isAmendmentOpenStatus, isSignedStatus } from "./caseStatus.ts";

describe("case status rules (shared with the dashboard)", () => {
  it("counts SIGNED_OUT and AMENDED as signed, nothing else", () => {
    expect(["SIGNED_OUT", "AMENDED"].every(isSignedStatus)).toBe(true);
    expect(["RECEIVED", "ANALYZING", "IN_REVIEW", "", "signed_out"].some(isSignedStatus)).toBe(false);
  });

  it("holds an amendment open from its start until the next signature, while an image uploaded into it is analysed too", () => {
    expect(isAmendmentOpenStatus("IN_REVIEW", 1)).toBe(true);
    expect(isAmendmentOpenStatus("ANALYZING", 1)).toBe(true);
    expect(isAmendmentOpenStatus("ANALYZING", 0)).toBe(false);
    expect(isAmendmentOpenStatus("IN_REVIEW", 0)).toBe(false);
    expect(isAmendmentOpenStatus("SIGNED_OUT", 1)).toBe(false);
    expect(isAmendmentOpenStatus("AMENDED", 2)).toBe(false);
  });
});
