import { describe, expect, it } from "vitest";
import { isAmendmentOpen } from "./caseDetails";

describe("isAmendmentOpen", () => {
  it("is open from its start until the next signature, while an image uploaded into it is analysed too", () => {
    expect(isAmendmentOpen("IN_REVIEW", 1)).toBe(true);
    expect(isAmendmentOpen("ANALYZING", 1)).toBe(true);
    expect(isAmendmentOpen("ANALYZING", 0)).toBe(false);
    expect(isAmendmentOpen("IN_REVIEW", 0)).toBe(false);
    expect(isAmendmentOpen("SIGNED_OUT", 1)).toBe(false);
    expect(isAmendmentOpen("AMENDED", 2)).toBe(false);
  });
});
