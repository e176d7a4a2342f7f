import { describe, expect, it } from "vitest";
import { canOpen, parseRole, PAGE_ROLES, ROLES } from "./roles";

describe("role policy", () => {
  it("parses only known roles", () => {
    expect(parseRole("HEMATOLOGIST")).toBe("HEMATOLOGIST");
    for (const bad of ["hematologist", "ROOT", "", null, undefined, 3, {}, ["ADMIN"]]) expect(parseRole(bad)).toBeNull();
  });

  it("fails closed for a missing or unknown role", () => {
    for (const page of Object.keys(PAGE_ROLES) as (keyof typeof PAGE_ROLES)[]) {
      expect(canOpen(page, null)).toBe(false);
      expect(canOpen(page, undefined)).toBe(false);
      expect(canOpen(page, "ROOT" as never)).toBe(false);
    }
    expect(canOpen("nope" as never, "ADMIN")).toBe(false);
  });

  it("keeps the clinical pages to their roles", () => {
    expect(ROLES.filter((r) => canOpen("review", r))).toEqual(["HEMATOLOGIST"]);
    expect(ROLES.filter((r) => canOpen("upload", r))).toEqual(["TECHNICIAN"]);
    expect(ROLES.filter((r) => canOpen("users", r))).toEqual(["ADMIN"]);
    expect(ROLES.filter((r) => canOpen("audit", r)).sort()).toEqual(["ADMIN", "AUDITOR"]);
    expect(ROLES.filter((r) => canOpen("retraining", r))).toEqual(["DATA_SCIENTIST"]);
  });
});
