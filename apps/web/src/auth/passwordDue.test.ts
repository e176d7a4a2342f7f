import { describe, expect, it } from "vitest";
import { passwordChangeDue } from "./passwordDue";

describe("passwordChangeDue", () => {
  const now = Date.parse("2026-11-27T15:00:00Z");
  it("is due for a temporary password, and for one that aged during the session", () => {
    expect(passwordChangeDue(true, null, now)).toBe(true);
    expect(passwordChangeDue(false, now - 1, now)).toBe(true);
  });
  it("is not due before the password ages, nor where passwords do not age", () => {
    expect(passwordChangeDue(false, now + 60_000, now)).toBe(false);
    expect(passwordChangeDue(undefined, null, now)).toBe(false);
  });
});
