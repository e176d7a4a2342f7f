import { describe, expect, it } from "vitest";
import { readReportContent } from "./content";
import { amendmentReasonText, reportCollectedText, reportCommentText, reportPatientText, unidentifiedReasonsText, voidReasonText } from "./withheld";

// As the API answers each role: an administrator's copy of a /7 report has these nulled, and
// SignOff.withheld names those that held a value as signed.
const asSigned = readReportContent({ case: { patientRef: "MRN-4411", collectedAt: "2026-11-20T08:30:00.000Z" }, comment: "Blasts seen; compare with MRN-4411" });
const asAdminReadsIt = readReportContent({ case: { patientRef: null, collectedAt: null }, comment: null });
const withheldFromAdmin = ["auditAnchor.hash", "case.collectedAt", "case.patientRef", "comment"];
// The same version signed with none of them: the administrator's copy reads alike, and nothing is withheld.
const signedWithNone = ["auditAnchor.hash"];

describe("a signed report, for the role reading it", () => {
  it("prints the patient row as withheld where one was signed, and never leaves the row out", () => {
    expect(reportPatientText(asAdminReadsIt, withheldFromAdmin)).toBe("withheld for your role");
    expect(reportPatientText(asSigned, [])).toBe("MRN-4411");
    expect(reportPatientText(readReportContent({ case: { patientRef: null } }), [])).toBe("not recorded");
    // Signed without one, or before /3 (no patient reference signed at all): not "withheld".
    expect(reportPatientText(asAdminReadsIt, signedWithNone)).toBe("not recorded");
    expect(reportPatientText(readReportContent({ schema: "rcmnet.signed-report/2", case: { accession: "A-1" } }), signedWithNone)).toBe("not recorded");
  });

  it("prints the morphology comment as withheld where one was signed, and no section where none was", () => {
    expect(reportCommentText(asAdminReadsIt, withheldFromAdmin)).toBe("withheld for your role");
    expect(reportCommentText(asSigned, [])).toBe("Blasts seen; compare with MRN-4411");
    // Signed without a comment: no section, whoever reads it (the API nulls none alike)...
    expect(reportCommentText(readReportContent({ comment: null }), [])).toBeNull();
    expect(reportCommentText(asAdminReadsIt, signedWithNone)).toBeNull();
    // ...nor on a report signed before comments existed.
    expect(reportCommentText(readReportContent({ schema: "rcmnet.signed-report/6" }), signedWithNone)).toBeNull();
  });

  it("says the collection time is withheld where one was signed, and nothing where none was", () => {
    expect(reportCollectedText(asAdminReadsIt, withheldFromAdmin)).toBe(", collection time withheld for your role");
    expect(reportCollectedText(asSigned, [])).toBe(", collected 2026-11-20 08:30:00 UTC");
    expect(reportCollectedText(readReportContent({ case: { collectedAt: null } }), [])).toBe("");
    expect(reportCollectedText(asAdminReadsIt, signedWithNone)).toBe("");
    expect(reportCollectedText(readReportContent({ case: {} }), signedWithNone)).toBe("");
  });

  it("gives an amendment's reason, says it is withheld, or that none was recorded", () => {
    expect(amendmentReasonText("cell 12 is a blast", [])).toBe("cell 12 is a blast");
    expect(amendmentReasonText(null, ["amendmentReason"])).toBe("withheld for your role");
    expect(amendmentReasonText(null, signedWithNone)).toBe("not recorded");
    expect(amendmentReasonText(null, [])).toBe("not recorded");
  });

  it("gives a voided image's reason, or says it is withheld", () => {
    expect(voidReasonText("smear of another patient", [])).toBe("smear of another patient");
    expect(voidReasonText(null, ["slides[].voided.reason"])).toBe("reason withheld for your role");
    expect(voidReasonText(null, [])).toBe("no reason recorded");
  });

  it("says why cells were left unidentified, or that those reasons are withheld (never \"no reason recorded\" for a withheld one)", () => {
    const cells = [
      { id: "a", label: "unidentified", reason: "smudged" },
      { id: "b", label: "unidentified", reason: "smudged" },
      { id: "c", label: "unidentified", reason: "out of focus" },
    ];
    const signed = readReportContent({ cells }).unidentifiedReasons!;
    expect(unidentifiedReasonsText(signed, [])).toBe("“smudged” ×2, “out of focus”");
    // The administrator's copy: every cell's reason nulled, and named in SignOff.withheld.
    const asAdmin = readReportContent({ cells: cells.map((c) => ({ ...c, reason: null })) }).unidentifiedReasons!;
    expect(unidentifiedReasonsText(asAdmin, ["auditAnchor.hash", "cells[].reason"])).toBe("3 cells, reasons withheld for your role");
    expect(unidentifiedReasonsText(asAdmin.slice(0, 1).map((r) => ({ ...r, count: 1 })), ["cells[].reason"])).toBe("1 cell, reasons withheld for your role");
    // Signed without a reason (nothing withheld): said so.
    expect(unidentifiedReasonsText(asAdmin, signedWithNone)).toBe("“no reason recorded” ×3");
  });
});
