// The review page of a case whose report of record is a signed retraction (D10): the cells the
// retraction kept stay on the page, recorded with the signature, but nothing there may read like a
// result. It says what the report page says (lib/retraction.ts), in the same words.
import { isSigned } from "@/lib/caseDetails";
import { noResultText, retractionBanner } from "@/lib/retraction";

export interface SignedRetraction {
  /** The report page's RETRACTED banner: what it withdrew, and that nothing replaces it. */
  banner: string;
  /** Said where the differential count and the CAR-T figures would be. */
  noResult: string;
}

/**
 * What the review page shows in place of a result while the case's signed version is a retraction;
 * null on a result, and once an amendment is open (its cells are then the next version's count in
 * the making, which the page shows as such). `cells`: the cells on the page, those it recorded.
 */
export function signedRetraction(h: { status: string; reportVersion: number; retracted: boolean }, cells: number): SignedRetraction | null {
  if (!h.retracted || !isSigned(h.status)) return null;
  // A retraction always withdraws the version just before it (it is signed as an amendment of it).
  return { banner: retractionBanner(h.reportVersion, null), noResult: noResultText(cells) };
}
