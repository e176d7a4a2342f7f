// The upload page loads the case's header (its details, their editor's updatedAt among them) and
// polls the analysis separately. The worker moves the case on (ANALYZING, then IN_REVIEW) and
// with it the case's updatedAt: a header left as it was would have the editor's next save
// refused as if someone else had changed the case. Likewise each image's analysis moves the
// image's updatedAt, which a void sends back (voidSlide refuses a void over an analysis the page
// has not seen), and the Images panel says from the header whether it is analysed.

export interface HeaderState {
  status: string;
  slides: readonly { id: string; voidedAt: string | null; analysisStatus: string }[];
}

export interface PolledAnalysis {
  caseStatus: string;
  slides: readonly { slideId: string; status: string }[];
}

/**
 * An analysis finished (DONE, FAILED) or not: the steps in between (PENDING, RUNNING) are not
 * followed, as the poll derives them from the job as well as the image (a job claimed before its
 * image is marked RUNNING, one waiting for a retry), and the header would be loaded again at every
 * poll. A void sent over such a step is refused, and the page loads the header again then. (A job
 * that failed with its worker shows FAILED before a worker marks the image so: the header is
 * loaded at each poll until then, briefly.)
 */
function finished(status: string): string {
  return status === "DONE" || status === "FAILED" ? status : "analysing";
}

/**
 * Whether the loaded header is behind what the latest poll shows: another status, other images
 * (uploaded elsewhere, or voided: both move the case's updatedAt too), or an image whose analysis
 * has finished since (or started again: the same file uploaded again after a failure).
 */
export function headerBehind(header: HeaderState, polled: PolledAnalysis): boolean {
  if (header.status !== polled.caseStatus) return true;
  const listed = new Map(header.slides.filter((s) => s.voidedAt === null).map((s) => [s.id, s.analysisStatus]));
  if (listed.size !== polled.slides.length) return true;
  return polled.slides.some((s) => {
    const status = listed.get(s.slideId);
    return status === undefined || finished(status) !== finished(s.status);
  });
}
