import { describe, expect, it } from "vitest";
import { fold, isFiltered, matchesUser, NO_FILTER, needsAttention, type FilterableUser } from "./userFilter";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const base: FilterableUser = { login: "slee", displayName: "Dr Sarah Lee", role: "HEMATOLOGIST", disabled: false, lockedUntil: null, mustChangePassword: false };

describe("users table filter", () => {
  it("shows everyone with no filter", () => {
    expect(matchesUser(base, NO_FILTER, NOW)).toBe(true);
    expect(isFiltered(NO_FILTER)).toBe(false);
  });

  it("finds by every word in login, name or role label, in any case and without accents", () => {
    expect(matchesUser(base, { ...NO_FILTER, text: "sarah HEM" }, NOW)).toBe(true);
    expect(matchesUser(base, { ...NO_FILTER, text: "slee" }, NOW)).toBe(true);
    expect(matchesUser(base, { ...NO_FILTER, text: "sarah tech" }, NOW)).toBe(false);
    expect(matchesUser({ ...base, displayName: "Émile  Zola" }, { ...NO_FILTER, text: "emile zola" }, NOW)).toBe(true);
    expect(fold("  Ｓarah\u00a0 LEE ")).toBe("sarah lee");
  });

  it("filters by role and by state", () => {
    expect(matchesUser(base, { ...NO_FILTER, role: "TECHNICIAN" }, NOW)).toBe(false);
    expect(matchesUser(base, { ...NO_FILTER, role: "HEMATOLOGIST" }, NOW)).toBe(true);
    expect(matchesUser({ ...base, disabled: true }, { ...NO_FILTER, state: "active" }, NOW)).toBe(false);
    expect(matchesUser({ ...base, disabled: true }, { ...NO_FILTER, state: "disabled" }, NOW)).toBe(true);
    expect(matchesUser(base, { ...NO_FILTER, state: "disabled" }, NOW)).toBe(false);
  });

  it("needs attention: locked out now or a new password due, and not for a disabled account", () => {
    expect(needsAttention(base, NOW)).toBe(false);
    expect(needsAttention({ ...base, lockedUntil: "2026-11-27T12:05:00Z" }, NOW)).toBe(true);
    expect(needsAttention({ ...base, lockedUntil: "2026-11-27T11:55:00Z" }, NOW)).toBe(false);
    expect(needsAttention({ ...base, mustChangePassword: true }, NOW)).toBe(true);
    expect(needsAttention({ ...base, mustChangePassword: true, disabled: true }, NOW)).toBe(false);
    expect(matchesUser({ ...base, mustChangePassword: true }, { ...NO_FILTER, state: "attention" }, NOW)).toBe(true);
  });
});
