// The parts of a signed report the API withholds from roles that may not see patient data (ADMIN
// reads reports): the patient reference, the collection time, and the free text that may name a
// patient (the morphology comment, an amendment's reason). The report says "withheld for your
// role" where they were signed, so that a printout cannot pass for the complete signed report.
import { formatDateTime } from "@/lib/format";
import { patientRefText, seesPatientData, WITHHELD } from "@/lib/patientRef";
import type { ReportContent } from "./content";

/** The patient row: the reference, "not recorded", or withheld; never a missing row. */
export function reportPatientText(role: string, content: Pick<ReportContent, "case">): string {
  return patientRefText(role, content.case.patientRef) ?? WITHHELD;
}

/** After the specimen: when it was collected, that this is withheld, or nothing where none was recorded. */
export function reportCollectedText(role: string, content: Pick<ReportContent, "case" | "caseKeys">): string {
  if (!seesPatientData(role)) return content.caseKeys.includes("collectedAt") ? `, collection time ${WITHHELD}` : "";
  return content.case.collectedAt ? `, collected ${formatDateTime(content.case.collectedAt)}` : "";
}

/**
 * The morphology comment section's text: the comment as signed, withheld where this version signed
 * one (given or not: the API nulls both alike), and null (no section) where there is none to show.
 */
export function reportCommentText(role: string, content: Pick<ReportContent, "comment" | "commentSigned">): string | null {
  if (!seesPatientData(role)) return content.commentSigned ? WITHHELD : null;
  return content.comment;
}

/** An amendment's reason as signed; the API answers null for the roles it withholds it from. */
export function amendmentReasonText(role: string, reason: string | null): string {
  return reason ?? (seesPatientData(role) ? "not recorded" : WITHHELD);
}
