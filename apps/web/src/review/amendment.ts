// The amendment open on a case, as the review page and the sign-off dialog show it. Whoever
// signs the amendment certifies the reason it was opened with (the API copies it into the signed
// content: "Reason: …"), though someone else may have opened it days before: they read it here.
import { isAmendmentOpen, isSigned } from "@/lib/caseDetails";
import { formatDateTime } from "@/lib/format";
import { WITHHELD } from "@/lib/patientRef";

export interface OpenAmendment {
  /** The version the amendment replaces (the report of record until it is signed). */
  of: number;
  startedAt: string | null;
  startedBy: { login: string; displayName: string } | null;
  /** As typed when it was opened; null for roles the API withholds it from (free text may name a patient). */
  reason: string | null;
}

/** The amendment open on a case as CASE_HEADER reads it; null when none is (signed, or never signed). */
export function openAmendmentOf(c: {
  status: string;
  reportVersion: number;
  amendmentStartedAt: string | null;
  amendmentStartedBy: { login: string; displayName: string } | null;
  amendmentReason: string | null;
}): OpenAmendment | null {
  if (!isAmendmentOpen(c.status, c.reportVersion)) return null;
  return { of: c.reportVersion, startedAt: c.amendmentStartedAt, startedBy: c.amendmentStartedBy, reason: c.amendmentReason };
}

/** "Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: “cell 12 is a blast”." */
export function amendmentOpenedText(a: OpenAmendment): string {
  const who = a.startedBy ? `${a.startedBy.displayName} (${a.startedBy.login})` : "an unknown user";
  const when = a.startedAt ? ` at ${formatDateTime(a.startedAt)}` : "";
  return `Amendment opened by ${who}${when}: ${a.reason === null ? `reason ${WITHHELD}` : `“${a.reason}”`}.`;
}

/**
 * The report version the review page is about: the signed one while the case is signed, else the
 * one a signature would make, which during an amendment (an image of it being analysed included)
 * replaces the signed one.
 */
export function reportVersionText(status: string, reportVersion: number): string {
  if (isSigned(status)) return `${reportVersion} (signed)`;
  return reportVersion > 0 ? `${reportVersion + 1} (amending version ${reportVersion})` : String(reportVersion + 1);
}
