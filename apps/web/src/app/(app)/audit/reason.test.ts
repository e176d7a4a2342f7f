import { describe, expect, it } from "vitest";
import { WITHHELD } from "@/lib/patientRef";
import { reasonText } from "./reason";

describe("audit reason cell", () => {
  it("says a reason the API withholds from the role is withheld, not blank", () => {
    expect(reasonText({ reason: null, reasonWithheld: true })).toBe(WITHHELD);
    expect(WITHHELD).toBe("withheld for your role");
  });
  it("shows a reason the reader may read", () => {
    expect(reasonText({ reason: "patientRef corrected from MRN-4410", reasonWithheld: false })).toBe("patientRef corrected from MRN-4410");
  });
  it("keeps an event without a reason blank", () => {
    expect(reasonText({ reason: null, reasonWithheld: false })).toBe("");
  });
});
