import { describe, expect, it } from "vitest";
import { detailsLockedNote } from "./caseDetails";

describe("detailsLockedNote", () => {
  it("locks a case being amended to every role but the hematologist's, and says where it is changed", () => {
    expect(detailsLockedNote("TECHNICIAN", "IN_REVIEW", 1)).toBe(
      "Being amended (signed as version 1): only a hematologist may change its details, which the next version signs (on the review page).",
    );
    expect(detailsLockedNote("TECHNICIAN", "ANALYZING", 2)).toMatch(/signed as version 2/);
    expect(detailsLockedNote("HEMATOLOGIST", "IN_REVIEW", 1)).toBeNull();
    // Before the first signature the technician edits them; a signed case is frozen anyway (no note).
    expect(detailsLockedNote("TECHNICIAN", "IN_REVIEW", 0)).toBeNull();
    expect(detailsLockedNote("TECHNICIAN", "SIGNED_OUT", 1)).toBeNull();
  });
});
