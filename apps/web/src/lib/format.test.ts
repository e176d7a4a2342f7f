import { describe, expect, it } from "vitest";
import { formatDateTime, utcFromInput } from "./format";

describe("audit time filters", () => {
  it("read a datetime-local value as UTC, whatever the browser's zone, as the table shows times", () => {
    expect(utcFromInput("2026-11-26T14:30")).toBe("2026-11-26T14:30:00.000Z");
    expect(formatDateTime(utcFromInput("2026-11-26T14:30"))).toBe("2026-11-26 14:30:00 UTC");
    expect(utcFromInput("2026-11-26T14:30:15")).toBe("2026-11-26T14:30:15.000Z");
    expect(utcFromInput("yesterday")).toBeNull();
    expect(utcFromInput("2026-11-26T14:30+02:00")).toBeNull();
  });
});
