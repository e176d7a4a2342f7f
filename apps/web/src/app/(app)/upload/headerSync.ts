// The upload page loads the case's header (its details, their editor's updatedAt among them) and
// polls the analysis separately. The worker moves the case on (ANALYZING, then IN_REVIEW) and
// with it the case's updatedAt: a header left as it was would have the editor's next save
// refused as if someone else had changed the case.

export interface HeaderState {
  status: string;
  slides: readonly { id: string; voidedAt: string | null }[];
}

export interface PolledAnalysis {
  caseStatus: string;
  slides: readonly { slideId: string }[];
}

/**
 * Whether the loaded header is behind what the latest poll shows: another status, or other
 * images (uploaded elsewhere, or voided: both move the case's updatedAt too).
 */
export function headerBehind(header: HeaderState, polled: PolledAnalysis): boolean {
  if (header.status !== polled.caseStatus) return true;
  const listed = new Set(header.slides.filter((s) => s.voidedAt === null).map((s) => s.id));
  return listed.size !== polled.slides.length || polled.slides.some((s) => !listed.has(s.slideId));
}
