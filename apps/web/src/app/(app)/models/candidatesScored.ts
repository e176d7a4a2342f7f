/**
 * How many model versions were scored on a proposal's TEST part, whenever registered, the candidate
 * included and the champion it is compared with not (PromotionEvidence.candidatesScoredOnTest,
 * frozen with the proposal).
 * Above 1 the candidate may be the best of several seeds or recipes scored on the same cells: its
 * TEST figures are the best of several noisy estimates, optimistic (the winner's curse). Null for
 * 1 (nothing to say) and for proposals filed before the count was recorded.
 */
export function candidatesScoredText(n: number | null): string | null {
  if (n === null || n <= 1) return null;
  return `${n} models were scored on this TEST part (this candidate and ${n - 1} other${n - 1 === 1 ? "" : "s"}, the champion it is compared with not counted): the best of several looks better than it is; confirm it on a newer snapshot's TEST part.`;
}
