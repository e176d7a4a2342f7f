import { describe, expect, it } from "vitest";
import { amendmentInProgressLine, printedLine } from "./printing";

describe("printout notices", () => {
  it("says an amendment is in progress, and since when, only while one is open", () => {
    expect(amendmentInProgressLine(true, "2026-11-27T08:30:00.000Z")).toBe(
      "An amendment of this report is in progress (since 2026-11-27 08:30:00 UTC): a newer version may replace this one.",
    );
    expect(amendmentInProgressLine(true, null)).toBe("An amendment of this report is in progress: a newer version may replace this one.");
    expect(amendmentInProgressLine(false, "2026-11-27T08:30:00.000Z")).toBeNull();
  });

  it("names when and by whom the report was printed", () => {
    expect(printedLine(new Date("2026-11-27T09:15:02.345Z"), "Dr Ada Lovelace", "alovelace")).toBe("Printed at 2026-11-27 09:15:02 UTC by Dr Ada Lovelace (alovelace)");
  });
});
