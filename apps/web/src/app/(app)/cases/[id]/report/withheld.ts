// The parts of a signed report the API withholds from roles that may not see patient data (ADMIN
// reads reports): the patient reference, the collection time, voided images' reasons, and the free
// text that may name a patient (the morphology comment, an amendment's reason, the cells' review
// reasons). The report says
// "withheld for your role" where they were signed, so that a printout cannot pass for the complete
// signed report, and nothing where nothing was: the API nulls both alike, and names in
// `SignOff.withheld` the fields that held a value (`withheld` below), which only it can tell.
import { formatDateTime } from "@/lib/format";
import { WITHHELD } from "@/lib/patientRef";
import type { ReportContent } from "./content";

/** How SignOff.withheld names the signed fields the report prints (paths into the content). */
export const WITHHELD_FIELD = {
  patientRef: "case.patientRef",
  collectedAt: "case.collectedAt",
  comment: "comment",
  amendmentReason: "amendmentReason",
  voidReason: "slides[].voided.reason",
  cellReason: "cells[].reason",
} as const;

/** The patient row: the reference, "not recorded" (none signed, or a report from before /3 signed none), or withheld; never a missing row. */
export function reportPatientText(content: Pick<ReportContent, "case">, withheld: readonly string[]): string {
  if (withheld.includes(WITHHELD_FIELD.patientRef)) return WITHHELD;
  return content.case.patientRef?.trim() || "not recorded";
}

/** After the specimen: when it was collected, that this is withheld, or nothing where none was signed. */
export function reportCollectedText(content: Pick<ReportContent, "case">, withheld: readonly string[]): string {
  if (withheld.includes(WITHHELD_FIELD.collectedAt)) return `, collection time ${WITHHELD}`;
  return content.case.collectedAt ? `, collected ${formatDateTime(content.case.collectedAt)}` : "";
}

/** The comment section's text: the comment as signed, withheld where one was signed, and null (no section) where none was. */
export function reportCommentText(content: Pick<ReportContent, "comment">, withheld: readonly string[]): string | null {
  return withheld.includes(WITHHELD_FIELD.comment) ? WITHHELD : content.comment;
}

/** An amendment's reason as signed, withheld, or "not recorded" where none was signed. */
export function amendmentReasonText(reason: string | null, withheld: readonly string[]): string {
  return reason ?? (withheld.includes(WITHHELD_FIELD.amendmentReason) ? WITHHELD : "not recorded");
}

/** Why an image was voided, as signed with the report: the reason, or that it is withheld. */
export function voidReasonText(reason: string | null, withheld: readonly string[]): string {
  return reason ?? (withheld.includes(WITHHELD_FIELD.voidReason) ? `reason ${WITHHELD}` : "no reason recorded");
}

/**
 * Why cells were left unidentified, as signed (`“smudged” ×2, “out of focus”`), or, where the
 * cells' reasons are withheld from the reader, how many cells that is and that their reasons are
 * withheld: a null reason would otherwise print as "no reason recorded".
 */
export function unidentifiedReasonsText(reasons: readonly { reason: string; count: number }[], withheld: readonly string[]): string {
  if (withheld.includes(WITHHELD_FIELD.cellReason)) {
    const cells = reasons.reduce((n, r) => n + r.count, 0);
    return `${cells} cell${cells === 1 ? "" : "s"}, reasons ${WITHHELD}`;
  }
  return reasons.map((r) => `“${r.reason}”${r.count > 1 ? ` ×${r.count}` : ""}`).join(", ");
}
