// A case's details as CASE_HEADER reads them: the review page, its workspace and the upload
// page's editor all hold this shape.
export interface CaseDetailsFields {
  id: string;
  status: string;
  priority: string;
  product: string | null;
  timepoint: string | null;
  /** The specimen as the signature will record it (absolute counts come from its white-cell count). */
  specimen: string | null;
  collectedAt: string | null;
  wbcCount: number | null;
  /** As loaded: a sign-off or an edit over a change made since is refused (CONFLICT). */
  updatedAt: string;
}

// The API's rules, not a copy: SIGNED_OUT/AMENDED are signed; an amendment is open from its start
// until the next signature (IN_REVIEW, or ANALYZING while an image uploaded into it is analysed).
export { isAmendmentOpenStatus as isAmendmentOpen, isSignedStatus as isSigned, mayChangeBeforeSignature } from "@rcmnet/api/caseStatus";
import { isAmendmentOpenStatus, mayChangeBeforeSignature } from "@rcmnet/api/caseStatus";

/**
 * Why this role may not edit the details of a case being amended (null: it may, or nothing is
 * open): the next version signs them, so a hematologist changes them, on the review page.
 */
export function detailsLockedNote(role: string, status: string, reportVersion: number): string | null {
  if (!isAmendmentOpenStatus(status, reportVersion) || mayChangeBeforeSignature(role, reportVersion)) return null;
  return `Being amended (signed as version ${reportVersion}): only a hematologist may change its details, which the next version signs (on the review page).`;
}

/** An image whose analysis has not finished (queued, or under way): no cells of it yet. */
export function isAnalysing(analysisStatus: string): boolean {
  return analysisStatus === "PENDING" || analysisStatus === "RUNNING";
}
