// When the review page, following a case's analysis, reloads the case (router.refresh): without
// React, so that the sequence that once left a page read-only for good can be tested.

/** What the page shows (server-rendered), or what the CASE_PROGRESS poll reports now. */
export interface AnalysisView {
  caseStatus: string;
  /** Images whose analysis has not finished. */
  analysing: number;
}

/** What a poll reports, as one value: a refresh is made once for each such value, never per poll. */
export function analysisKey(poll: AnalysisView): string {
  return `${poll.caseStatus}:${poll.analysing}`;
}

/**
 * Whether the page should reload the case. Due when the poll says the page is out of date (fewer
 * images analysing, or another case status) and the page has not already reloaded for this answer.
 * The poll and the page can disagree for a while after a reload: an analysis job that failed reads
 * FAILED in the poll while the image's own row still says RUNNING until the worker reconciles it,
 * and only then does the case leave ANALYZING. Comparing counts alone stopped there, read-only,
 * until someone reloaded by hand; remembering the answer last reloaded for lets the next change
 * (the case moving to IN_REVIEW) reload again without reloading on every poll in between.
 */
export function analysisRefreshDue(
  page: AnalysisView,
  poll: AnalysisView | undefined,
  lastRefreshedFor: string | null,
): boolean {
  if (!poll) return false;
  if (analysisKey(poll) === lastRefreshedFor) return false;
  return poll.analysing < page.analysing || poll.caseStatus !== page.caseStatus;
}
