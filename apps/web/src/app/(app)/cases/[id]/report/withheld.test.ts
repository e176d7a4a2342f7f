import { describe, expect, it } from "vitest";
import { readReportContent } from "./content";
import { amendmentReasonText, reportCollectedText, reportCommentText, reportPatientText } from "./withheld";

// As the API answers each role: an administrator's copy of a /7 report has these nulled.
const asSigned = readReportContent({ case: { patientRef: "MRN-4411", collectedAt: "2026-11-20T08:30:00.000Z" }, comment: "Blasts seen; compare with MRN-4411" });
const asAdminReadsIt = readReportContent({ case: { patientRef: null, collectedAt: null }, comment: null });

describe("a signed report for a role that may not see patient data", () => {
  it("prints the patient row as withheld, not left out", () => {
    expect(reportPatientText("ADMIN", asAdminReadsIt)).toBe("withheld for your role");
    expect(reportPatientText("DATA_SCIENTIST", asAdminReadsIt)).toBe("withheld for your role");
    expect(reportPatientText("HEMATOLOGIST", asSigned)).toBe("MRN-4411");
    expect(reportPatientText("AUDITOR", readReportContent({ case: { patientRef: null } }))).toBe("not recorded");
  });

  it("prints the morphology comment as withheld where one was signed, and nothing where there is none", () => {
    expect(reportCommentText("ADMIN", asAdminReadsIt)).toBe("withheld for your role");
    expect(reportCommentText("HEMATOLOGIST", asSigned)).toBe("Blasts seen; compare with MRN-4411");
    // Signed without a comment: no section for a role that sees comments...
    expect(reportCommentText("HEMATOLOGIST", readReportContent({ comment: null }))).toBeNull();
    // ...and none for anyone on a report signed before comments existed.
    expect(reportCommentText("ADMIN", readReportContent({ schema: "rcmnet.signed-report/6" }))).toBeNull();
  });

  it("says the collection time is withheld where it was signed", () => {
    expect(reportCollectedText("ADMIN", asAdminReadsIt)).toBe(", collection time withheld for your role");
    expect(reportCollectedText("HEMATOLOGIST", asSigned)).toBe(", collected 2026-11-20 08:30:00 UTC");
    expect(reportCollectedText("HEMATOLOGIST", readReportContent({ case: { collectedAt: null } }))).toBe("");
    expect(reportCollectedText("ADMIN", readReportContent({ case: {} }))).toBe("");
  });

  it("gives an amendment's reason, or says it is withheld", () => {
    expect(amendmentReasonText("HEMATOLOGIST", "cell 12 is a blast")).toBe("cell 12 is a blast");
    expect(amendmentReasonText("ADMIN", null)).toBe("withheld for your role");
    expect(amendmentReasonText("AUDITOR", null)).toBe("not recorded");
  });
});
