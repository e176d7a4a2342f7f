// The amendment open on a case, as the review page and the sign-off dialog show it. Whoever
// signs the amendment certifies the reason it was opened with (the API copies it into the signed
// content: "Reason: …"), though someone else may have opened it days before: they read it here.
import { isAmendmentOpen, isSigned } from "@/lib/caseDetails";
import { formatDateTime } from "@/lib/format";
import { WITHHELD } from "@/lib/patientRef";

export interface OpenAmendment {
  /** The version the amendment replaces (the report of record until it is signed). */
  of: number;
  startedAt: string | null;
  startedBy: { login: string; displayName: string } | null;
  /** As typed when it was opened; null for roles the API withholds it from (free text may name a patient). */
  reason: string | null;
}

/** The amendment open on a case as CASE_HEADER reads it; null when none is (signed, or never signed). */
export function openAmendmentOf(c: {
  status: string;
  reportVersion: number;
  amendmentStartedAt: string | null;
  amendmentStartedBy: { login: string; displayName: string } | null;
  amendmentReason: string | null;
}): OpenAmendment | null {
  if (!isAmendmentOpen(c.status, c.reportVersion)) return null;
  return { of: c.reportVersion, startedAt: c.amendmentStartedAt, startedBy: c.amendmentStartedBy, reason: c.amendmentReason };
}

/** "Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: “cell 12 is a blast”." */
export function amendmentOpenedText(a: OpenAmendment): string {
  const who = a.startedBy ? `${a.startedBy.displayName} (${a.startedBy.login})` : "an unknown user";
  const when = a.startedAt ? ` at ${formatDateTime(a.startedAt)}` : "";
  return `Amendment opened by ${who}${when}: ${a.reason === null ? `reason ${WITHHELD}` : `“${a.reason}”`}.`;
}

/**
 * The report version the review page is about: the signed one while the case is signed, else the
 * one a signature would make, which during an amendment (an image of it being analysed included)
 * replaces the signed one.
 */
export function reportVersionText(status: string, reportVersion: number): string {
  if (isSigned(status)) return `${reportVersion} (signed)`;
  return reportVersion > 0 ? `${reportVersion + 1} (amending version ${reportVersion})` : String(reportVersion + 1);
}

/**
 * What the review page says where no cell is left to review, and whether signing a retraction is
 * the way to close the case: during an amendment whose images are all voided (or gave no cells),
 * the version it amends is known wrong and must not stay the report of record for want of cells.
 * A first report has nothing to retract. `images`: the images whose cells the page shows.
 */
export function noCellsNotice({
  amending,
  signed = false,
  images,
  voided,
  analysing,
}: {
  amending: number | null;
  /** The case is signed (read-only): nothing to sign, only to say. */
  signed?: boolean;
  images: number;
  voided: number;
  analysing: number;
}): { text: string; retract: boolean } {
  if (analysing > 0) return { text: "This case's images are still being analysed: their cells appear here when the analysis finishes.", retract: false };
  if (signed && images === 0 && voided > 0) return { text: "Every image of this case was voided: it has no cells to show.", retract: false };
  const retraction = amending !== null ? ` To withdraw version ${amending} without a result in its place, sign a retraction (no valid result); or upload this patient's images and sign a result.` : "";
  if (images === 0 && voided > 0) {
    return amending !== null
      ? { text: `Every image of this case is voided: there is no valid result to report, and version ${amending} stays the report of record until a signature replaces it.${retraction}`, retract: true }
      : {
          text: "Every image of this case is voided: there are no cells to sign. A first report cannot be retracted (none was issued): upload this patient's images on the upload page, or leave the case unsigned.",
          retract: false,
        };
  }
  if (images === 0) return { text: `No image of this case has been analysed, so there are no cells to review: a technician adds images on the upload page.${retraction}`, retract: amending !== null };
  return { text: `No white cells were found in this case's images.${retraction}`, retract: amending !== null };
}

/**
 * The sentence a signer ticks before signing a retraction of version `of`: what the signature
 * withdraws, that nothing replaces it, and what becomes of the cells (`cells`: those on the page).
 */
export function retractionConfirmText(of: number, cells: number): string {
  const kept = cells > 0 ? ` The ${cells} cell${cells === 1 ? "" : "s"} on this page stay recorded with my signature, not as a result.` : "";
  return `I retract version ${of}: it must not be used, and version ${of + 1} reports no valid result in its place.${kept}`;
}

/** What the sign-off dialog's comment box starts from: the signature's kind and the version it would replace. */
export interface CommentStart {
  /** An amendment (a signed version is replaced), not a first report. */
  amending: boolean;
  /** The meaning chosen is the retraction. */
  retracting: boolean;
  /** The comment of the version an amendment replaces (null: none). */
  signedComment: string | null;
}

/**
 * The comment box's text as a meaning starts it. An amendment's approval starts from the version it
 * replaces: the new version is the report of record, and a comment not typed again would silently
 * drop out. A retraction starts empty, as a first report does: it reports no result, and the
 * withdrawn version's morphology comment signed again would print under "RETRACTED: no valid result".
 */
export function startingComment({ amending, retracting, signedComment }: CommentStart): string {
  return amending && !retracting ? (signedComment ?? "") : "";
}

/**
 * The comment box after the meaning switches to or from the retraction: where the signer left it as
 * the old meaning started it, the new meaning's start (back to an approval, the replaced version's
 * comment again); where they typed in it, their words, kept.
 */
export function commentAfterSwitch(comment: string, from: CommentStart, to: CommentStart): string {
  return comment === startingComment(from) ? startingComment(to) : comment;
}
