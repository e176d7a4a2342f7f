// What a signature may mean (21 CFR 11.50(a)(3)): a controlled list the API enforces and the
// dashboard offers, so a report never carries a meaning someone typed ("ok!") into an API call,
// nor one that misstates what was signed. Reports signed before the list keep their meaning.

/**
 * An amendment that withdraws the report it supersedes and gives none in its place (the smears
 * were another patient's, the specimen unusable): a signed version like any other, so the
 * withdrawal has a signer, a time, a reason and a hash (docs/decisions.md D10). Amendments only:
 * a first report has no issued version to withdraw.
 */
export const RETRACTION_MEANING = "Amended report: retracted, no valid result";

export const SIGN_OFF_MEANINGS = [
  "Reviewed and approved",
  "Reviewed and approved with corrections",
  "Amended report: reviewed and approved",
  "Amended report: reviewed and approved with corrections",
  RETRACTION_MEANING,
] as const;
export type SignOffMeaning = (typeof SIGN_OFF_MEANINGS)[number];

/** Whether a signature (its meaning as signed) retracts the report it supersedes. */
export function isRetraction(meaning: string | null | undefined): boolean {
  return meaning === RETRACTION_MEANING;
}

/**
 * The meanings that fit a signature, the first the one to offer: an amendment (version 2 on) says
 * so; a signature over AI labels the reviewer changed says "with corrections" (without any, it may
 * still, for corrections of the case's details). An amendment may instead retract the report,
 * offered last, never as the default, whatever the cells (they stay recorded, no result is given);
 * with no cell to sign (every image voided) a retraction is all an amendment can be, and a first
 * report nothing.
 */
export function meaningsFor({ amendment, corrected, empty = false }: { amendment: boolean; corrected: boolean; empty?: boolean }): SignOffMeaning[] {
  if (empty) return amendment ? [RETRACTION_MEANING] : [];
  const approvals = SIGN_OFF_MEANINGS.filter(
    (m) => !isRetraction(m) && m.startsWith("Amended report") === amendment && (!corrected || m.endsWith("with corrections")),
  );
  return amendment ? [...approvals, RETRACTION_MEANING] : approvals;
}

/**
 * The longest morphology comment a signature carries (signOffCase's `comment`; a paragraph or
 * two, not a document): here, so that the sign-off dialog's limit is the API's.
 */
export const MAX_SIGNED_COMMENT = 2000;
