import { describe, expect, it } from "vitest";
import { signedRetraction } from "./signedRetraction";

describe("the review page of a case whose signed version is a retraction", () => {
  it("says RETRACTED and no valid result, in the report page's words, with the cells it kept recorded, not counted", () => {
    expect(signedRetraction({ status: "AMENDED", reportVersion: 2, retracted: true }, 12)).toEqual({
      banner: "Retracted: no valid result. Version 1 of this report must not be used; this version (2) gives no result in its place.",
      noResult: "No valid result: this version reports no differential count. The 12 cells reviewed stay recorded with the signature, not as a result.",
    });
    // Every image voided: nothing was recorded.
    expect(signedRetraction({ status: "AMENDED", reportVersion: 3, retracted: true }, 0)?.noResult).toMatch(/No cell was counted/);
  });

  it("is nothing on a signed result, nor while an amendment of the retraction is open (its count is the next version's)", () => {
    expect(signedRetraction({ status: "AMENDED", reportVersion: 2, retracted: false }, 12)).toBeNull();
    expect(signedRetraction({ status: "SIGNED_OUT", reportVersion: 1, retracted: false }, 12)).toBeNull();
    expect(signedRetraction({ status: "IN_REVIEW", reportVersion: 2, retracted: true }, 12)).toBeNull();
    expect(signedRetraction({ status: "ANALYZING", reportVersion: 2, retracted: true }, 12)).toBeNull();
  });
});
