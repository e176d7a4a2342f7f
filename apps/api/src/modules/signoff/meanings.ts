// What a signature may mean (21 CFR 11.50(a)(3)): a controlled list the API enforces and the
// dashboard offers, so a report never carries a meaning someone typed ("ok!") into an API call,
// nor one that misstates what was signed. Reports signed before the list keep their meaning.
export const SIGN_OFF_MEANINGS = [
  "Reviewed and approved",
  "Reviewed and approved with corrections",
  "Amended report: reviewed and approved",
  "Amended report: reviewed and approved with corrections",
] as const;
export type SignOffMeaning = (typeof SIGN_OFF_MEANINGS)[number];

/**
 * The meanings that fit a signature, the first the one to offer: an amendment (version 2 on) says
 * so; a signature over AI labels the reviewer changed says "with corrections" (without any, it may
 * still, for corrections of the case's details).
 */
export function meaningsFor({ amendment, corrected }: { amendment: boolean; corrected: boolean }): SignOffMeaning[] {
  return SIGN_OFF_MEANINGS.filter((m) => m.startsWith("Amended report") === amendment && (!corrected || m.endsWith("with corrections")));
}

/**
 * The longest morphology comment a signature carries (signOffCase's `comment`; a paragraph or
 * two, not a document): here, so that the sign-off dialog's limit is the API's.
 */
export const MAX_SIGNED_COMMENT = 2000;
