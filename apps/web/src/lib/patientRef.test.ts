import { describe, expect, it } from "vitest";
import { patientRefText, seesPatientData } from "./patientRef";

describe("patientRefText", () => {
  it("shows the reference, or says it was not recorded, to roles that may see it", () => {
    expect(patientRefText("HEMATOLOGIST", "CART-017")).toBe("CART-017");
    expect(patientRefText("HEMATOLOGIST", null)).toBe("not recorded");
    expect(patientRefText("AUDITOR", "  ")).toBe("not recorded");
    expect(patientRefText("TECHNICIAN", undefined)).toBe("not recorded");
  });

  it("is null for the roles the API withholds it from, and for an unknown role (fails closed)", () => {
    expect(patientRefText("ADMIN", "CART-017")).toBeNull();
    expect(patientRefText("DATA_SCIENTIST", null)).toBeNull();
    expect(patientRefText("", "CART-017")).toBeNull();
  });

  it("tells the roles that see patient data (and free text that may name a patient) from the others", () => {
    expect(["HEMATOLOGIST", "TECHNICIAN", "AUDITOR"].map(seesPatientData)).toEqual([true, true, true]);
    expect(["ADMIN", "DATA_SCIENTIST", "", "hematologist"].map(seesPatientData)).toEqual([false, false, false, false]);
  });
});
