import { describe, expect, it } from "vitest";
import { amendmentOpenedText, openAmendmentOf, reportVersionText } from "./amendment";

const opened = {
  amendmentStartedAt: "2026-11-27T08:30:00.000Z",
  amendmentStartedBy: { login: "alice", displayName: "Dr A" },
  amendmentReason: "cell 12 is a blast",
};

describe("the amendment open on a case", () => {
  it("is read from the case with who opened it, when and why, and is none when nothing is open", () => {
    expect(openAmendmentOf({ status: "ANALYZING", reportVersion: 1, ...opened })).toEqual({
      of: 1,
      startedAt: "2026-11-27T08:30:00.000Z",
      startedBy: { login: "alice", displayName: "Dr A" },
      reason: "cell 12 is a blast",
    });
    expect(openAmendmentOf({ status: "AMENDED", reportVersion: 2, ...opened })).toBeNull();
    expect(openAmendmentOf({ status: "IN_REVIEW", reportVersion: 0, ...opened })).toBeNull();
  });

  it("names who opened it, when, and the reason the signature will certify", () => {
    const a = openAmendmentOf({ status: "IN_REVIEW", reportVersion: 1, ...opened })!;
    expect(amendmentOpenedText(a)).toBe("Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: “cell 12 is a blast”.");
    // The API withholds the reason from roles that may not see patient references: said, not left out.
    expect(amendmentOpenedText({ ...a, reason: null })).toBe("Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: reason withheld for your role.");
    expect(amendmentOpenedText({ ...a, startedAt: null, startedBy: null })).toBe("Amendment opened by an unknown user: “cell 12 is a blast”.");
  });

  it("gives the report version the page is about: signed, or the one being prepared", () => {
    expect(reportVersionText("RECEIVED", 0)).toBe("1");
    expect(reportVersionText("ANALYZING", 0)).toBe("1");
    expect(reportVersionText("SIGNED_OUT", 1)).toBe("1 (signed)");
    expect(reportVersionText("AMENDED", 2)).toBe("2 (signed)");
    expect(reportVersionText("IN_REVIEW", 1)).toBe("2 (amending version 1)");
    // An image of the amendment being analysed: still version 2 in preparation, not "1 (signed)".
    expect(reportVersionText("ANALYZING", 1)).toBe("2 (amending version 1)");
  });
});
