import { describe, expect, it } from "vitest";
import { ABSOLUTE_CI_NOTE, cellCount, formatDateTime, intervalText, isoFromLocalInput, localInputFromIso, share, utcFromInput } from "./format";

describe("audit time filters", () => {
  it("read a datetime-local value as UTC, whatever the browser's zone, as the table shows times", () => {
    expect(utcFromInput("2026-11-26T14:30")).toBe("2026-11-26T14:30:00.000Z");
    expect(formatDateTime(utcFromInput("2026-11-26T14:30"))).toBe("2026-11-26 14:30:00 UTC");
    expect(utcFromInput("2026-11-26T14:30:15")).toBe("2026-11-26T14:30:15.000Z");
    expect(utcFromInput("yesterday")).toBeNull();
    expect(utcFromInput("2026-11-26T14:30+02:00")).toBeNull();
  });
});

describe("collection times typed in local time", () => {
  it("reads a datetime-local value in the browser's zone and gives it back the same way", () => {
    const iso = isoFromLocalInput("2026-11-20T08:30")!;
    // The same instant as the local wall-clock time, whatever this machine's zone is.
    expect(new Date(iso).getTime()).toBe(new Date(2026, 10, 20, 8, 30).getTime());
    expect(localInputFromIso(iso)).toBe("2026-11-20T08:30");
    expect(isoFromLocalInput("20.11.2026 08:30")).toBeNull();
    expect(isoFromLocalInput("")).toBeNull();
    expect(localInputFromIso(null)).toBe("");
  });
});

describe("shares of a count", () => {
  it("never print cells that were counted as 0.0%", () => {
    expect(share(0, 1)).toBe("<0.1%");
    expect(share(0, 0)).toBe("0.0%");
    expect(share(0.1, 1)).toBe("0.1%");
    expect(share(null, 0)).toBe("—");
  });
});

describe("intervals", () => {
  it("say their unit and what they cover after the bounds; nothing without an interval", () => {
    expect(intervalText([12, 140], cellCount, ABSOLUTE_CI_NOTE)).toBe(" (95% CI 12–140 cells/µL, from the cell count's error only)");
    expect(intervalText([1.5, 9], (n) => `${n}%`)).toBe(" (95% CI 1.5%–9%)");
    expect(intervalText(null, cellCount, ABSOLUTE_CI_NOTE)).toBe("");
  });
});
