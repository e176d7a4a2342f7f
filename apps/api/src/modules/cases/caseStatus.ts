// Whether a case is signed, and whether an amendment is open, from its status and report version
// alone: pure, so that the dashboard (@rcmnet/api/caseStatus) applies the API's own rule instead
// of a copy that could drift from it.

/** Signed cases are frozen (21 CFR 11.10(e)): SIGNED_OUT (version 1), AMENDED (version 2 or later). */
export const SIGNED_STATUSES = ["SIGNED_OUT", "AMENDED"] as const;

export function isSignedStatus(status: string): boolean {
  return (SIGNED_STATUSES as readonly string[]).includes(status);
}

/**
 * An amendment is open from amendCase until the next signature: the case is IN_REVIEW, or
 * ANALYZING while an image uploaded into the amendment is analysed (RECEIVED never follows a
 * signature, but is not signed either). The signed version stays the report of record meanwhile.
 */
export function isAmendmentOpenStatus(status: string, reportVersion: number): boolean {
  return reportVersion > 0 && !isSignedStatus(status);
}

/**
 * Who may change what the next signed version will hold (the case's details; voiding one of its
 * images) while the case is unsigned. Uploads are not held to it: a new image adds cells for the
 * hematologist to review and changes nothing signed (docs/decisions.md D12). Before the first signature: whoever may upload or review (the resolver's
 * roles decide). Once signed, an amendment changes what a hematologist signed: a hematologist's
 * decision, whoever else registered the case (moving a signed report to another patient is exactly
 * what amendments and retractions exist to record).
 */
export function mayChangeBeforeSignature(role: string, reportVersion: number): boolean {
  return reportVersion === 0 || role === "HEMATOLOGIST";
}
