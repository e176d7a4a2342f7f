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
 * The report version the review page is about: the signed one while the case is signed (said to be
 * a retraction where it is one: `retracted`), else the one a signature would make, which during an
 * amendment (an image of it being analysed included) replaces the signed one.
 */
export function reportVersionText(status: string, reportVersion: number, retracted = false): string {
  if (isSigned(status)) return `${reportVersion} (signed${retracted ? " retraction: no valid result" : ""})`;
  return reportVersion > 0 ? `${reportVersion + 1} (amending version ${reportVersion})` : String(reportVersion + 1);
}

/**
 * What the review page says where no cell is left to review, and whether signing a retraction is
 * the way to close the case: during an amendment whose images are all voided (or failed, or gave
 * no cells), the version it amends is known wrong and must not stay the report of record for want
 * of cells. A first report has nothing to retract. `images`: the images whose cells the page shows;
 * `voided`, `failed`: those voided, and those whose analysis failed (neither shows cells).
 */
export function noCellsNotice({
  amending,
  signed = false,
  images,
  voided,
  failed,
  analysing,
}: {
  amending: number | null;
  /** The case is signed (read-only): nothing to sign, only to say. */
  signed?: boolean;
  images: number;
  voided: number;
  failed: number;
  analysing: number;
}): { text: string; retract: boolean } {
  if (analysing > 0) return { text: "This case's images are still being analysed: their cells appear here when the analysis finishes.", retract: false };
  // "Every image is voided" only where it is true: a failed image was not voided (it may be uploaded again).
  const gone = [voided > 0 ? `${voided} voided` : "", failed > 0 ? `${failed} failed` : ""].filter(Boolean).join(", ");
  const noneLeft = failed > 0 ? `No image of this case has cells left (${gone})` : "Every image of this case is voided";
  if (signed && images === 0 && voided + failed > 0) return { text: failed > 0 ? `${noneLeft}.` : "Every image of this case was voided: it has no cells to show.", retract: false };
  const retraction = amending !== null ? ` To withdraw version ${amending} without a result in its place, sign a retraction (no valid result); or upload this patient's images and sign a result.` : "";
  if (images === 0 && voided + failed > 0) {
    return amending !== null
      ? { text: `${noneLeft}: there is no valid result to report, and version ${amending} stays the report of record until a signature replaces it.${retraction}`, retract: true }
      : {
          text: `${noneLeft}: there are no cells to sign. A first report cannot be retracted (none was issued): upload this patient's images on the upload page, or leave the case unsigned.`,
          retract: false,
        };
  }
  if (images === 0) return { text: `No image of this case has been analysed, so there are no cells to review: a technician adds images on the upload page.${retraction}`, retract: amending !== null };
  return { text: `No white cells were found in this case's images.${retraction}`, retract: amending !== null };
}

/**
 * What the sign-off dialog says of images whose analysis failed. Signing a count, the signer ticks
 * it: the count leaves their cells out. A retraction signs no count, so there is nothing to sign
 * without them: it is said, not asked (the API has no such rule either).
 */
export function failedImagesText(failed: number, retracting: boolean): string {
  const images = `${failed} image${failed === 1 ? "" : "s"} of this case could not be analysed`;
  if (retracting) return `${images} and contributed no cells; this retraction records that.`;
  const [its, them] = failed === 1 ? ["its", "it"] : ["their", "them"];
  return `${images}: this count leaves ${its} cells out (a technician can upload ${them} again). I sign the count without ${them}.`;
}

/**
 * The sentence a signer ticks before signing a retraction of version `of`: what the signature
 * withdraws, that nothing replaces it, and what becomes of the cells (`cells`: those on the page).
 */
export function retractionConfirmText(of: number, cells: number): string {
  const kept = cells > 0 ? ` The ${cells} cell${cells === 1 ? "" : "s"} on this page stay recorded with my signature, not as a result.` : "";
  return `I retract version ${of}: it must not be used, and version ${of + 1} reports no valid result in its place.${kept}`;
}

/** The two kinds of meaning the sign-off dialog tells apart: an approval (a result) or a retraction (none). */
export type MeaningKind = "approval" | "retraction";

export function meaningKind(retracting: boolean): MeaningKind {
  return retracting ? "retraction" : "approval";
}

/**
 * What the signer entered in the sign-off dialog that belongs to one kind of meaning. The comment
 * box keeps one draft per kind, so switching meanings moves nothing from one into the other: the
 * withdrawn version's morphology comment (or anything typed for an approval) never becomes the note
 * signed on a retraction, and a comment the signer cleared stays cleared when they switch to the
 * retraction and back. The retraction's tick is given for the retraction on screen: switching away
 * and back asks for it again.
 */
export interface MeaningInputs {
  /** The kind the dialog shows now. */
  kind: MeaningKind;
  drafts: Record<MeaningKind, string>;
  retractionConfirmed: boolean;
}

/**
 * The inputs as the dialog opens. An amendment's approval starts from the comment of the version it
 * replaces (`signedComment`, null: none, or that version is a retraction): the new version is the
 * report of record, and a comment not typed again would silently drop out. A retraction's note
 * starts empty, as a first report's comment does: the withdrawn version's comment signed again
 * would print under "RETRACTED: no valid result".
 */
export function startingInputs({ kind, amending, signedComment }: { kind: MeaningKind; amending: boolean; signedComment: string | null }): MeaningInputs {
  return { kind, drafts: { approval: amending ? (signedComment ?? "") : "", retraction: "" }, retractionConfirmed: false };
}

/** The inputs once the meaning is of `kind`: the same where the kind did not change. */
export function switchMeaning(inputs: MeaningInputs, kind: MeaningKind): MeaningInputs {
  return inputs.kind === kind ? inputs : { ...inputs, kind, retractionConfirmed: false };
}

/** The comment box as the signer left it (typed into, or cleared): the shown kind's draft only. */
export function withComment(inputs: MeaningInputs, text: string): MeaningInputs {
  return { ...inputs, drafts: { ...inputs.drafts, [inputs.kind]: text } };
}
