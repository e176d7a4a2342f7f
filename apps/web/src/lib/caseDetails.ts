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
