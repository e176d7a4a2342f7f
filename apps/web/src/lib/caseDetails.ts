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
export { isAmendmentOpenStatus as isAmendmentOpen, isSignedStatus as isSigned } from "@rcmnet/api/caseStatus";

/** An image whose analysis has not finished (queued, or under way): no cells of it yet. */
export function isAnalysing(analysisStatus: string): boolean {
  return analysisStatus === "PENDING" || analysisStatus === "RUNNING";
}
