import { describe, expect, it } from "vitest";
import { bulkConfirmedText } from "./bulkConfirmed";

describe("the TEST part's bulk-confirmed labels", () => {
  it("counts them against the TEST cells", () => {
    expect(bulkConfirmedText(30, 120)).toBe("30 of 120 TEST labels are bulk confirmations of AI calls");
    expect(bulkConfirmedText(0, 120)).toBe("0 of 120 TEST labels are bulk confirmations of AI calls");
    expect(bulkConfirmedText(1, 1)).toBe("1 of 1 TEST label is a bulk confirmation of an AI call");
    expect(bulkConfirmedText(1, 20)).toBe("1 of 20 TEST labels is a bulk confirmation of an AI call");
  });

  it("says not recorded for a snapshot (or proposal) from before, never 0", () => {
    expect(bulkConfirmedText(null, 120)).toBe("TEST labels confirmed in bulk: not recorded");
    expect(bulkConfirmedText(null, null)).toBe("TEST labels confirmed in bulk: not recorded");
  });

  it("gives the count alone where the TEST cells are not recorded", () => {
    expect(bulkConfirmedText(3, null)).toBe("3 TEST labels are bulk confirmations of AI calls");
  });
});
