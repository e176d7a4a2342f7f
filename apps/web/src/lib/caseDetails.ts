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

/** SIGNED_OUT (version 1) and AMENDED (version 2 or later) are both signed: read-only until amended. */
export function isSigned(status: string): boolean {
  return status === "SIGNED_OUT" || status === "AMENDED";
}

/**
 * An amendment is open from its start until the next signature: IN_REVIEW, or ANALYZING while an
 * image uploaded into it is analysed. The last signed version stays the report of record meanwhile
 * (the API's isAmendmentOpen, and Case.amendmentStartedAt, follow the same rule).
 */
export function isAmendmentOpen(status: string, reportVersion: number): boolean {
  return reportVersion > 0 && !isSigned(status);
}

/** An image whose analysis has not finished (queued, or under way): no cells of it yet. */
export function isAnalysing(analysisStatus: string): boolean {
  return analysisStatus === "PENDING" || analysisStatus === "RUNNING";
}
