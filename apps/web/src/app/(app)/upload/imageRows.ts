// The upload page's analysis table names each image by the number the review page gives it
// (numberImages: all of the case's images in upload order, voided and failed ones included), so
// that "#3" here is "Image 3" there, whichever images were voided: a technician voids an image on
// one page after reading its number on the other, and a void cannot be undone.
import { canVoidImages, type CaseImage, type NumberedImage, numberImages } from "@/review/caseImages";
import { isAmendmentOpen, isSigned, mayChangeBeforeSignature } from "@/lib/caseDetails";

export type AnalysisRow<P extends { slideId: string }> =
  /** An image the analysis poll lists; number null while the case header has not loaded it yet (just uploaded). */
  | { kind: "image"; slideId: string; number: number | null; image: NumberedImage | null; polled: P }
  /** A voided image: left out of the analysis, listed here (greyed) so that its number stays its own. */
  | { kind: "voided"; slideId: string; number: number; image: NumberedImage };

/**
 * The table's rows: the case's images in upload order as the header lists them (all of them), each
 * with its analysis from the poll (which leaves voided images out); an image the poll lists that
 * the header does not know yet comes last, without a number until the header is loaded again.
 */
export function analysisRows<P extends { slideId: string }>(images: readonly CaseImage[], polled: readonly P[]): AnalysisRow<P>[] {
  const numbered = numberImages(images);
  const byId = new Map(polled.map((p) => [p.slideId, p]));
  const rows: AnalysisRow<P>[] = [];
  for (const image of numbered) {
    if (image.voidedAt !== null) {
      rows.push({ kind: "voided", slideId: image.id, number: image.number, image });
      continue;
    }
    // Listed by the header but not by the poll: voided elsewhere since the header loaded (the
    // header follows the poll), or uploaded after the poll read; shown once both agree.
    const p = byId.get(image.id);
    if (p) rows.push({ kind: "image", slideId: image.id, number: image.number, image, polled: p });
  }
  const known = new Set(numbered.map((i) => i.id));
  for (const p of polled) if (!known.has(p.slideId)) rows.push({ kind: "image", slideId: p.slideId, number: null, image: null, polled: p });
  return rows;
}

/** The upload page is the technician's. */
const ROLE = "TECHNICIAN";

/** Whether the upload page offers "Void image": the API's rule (voidSlide) for a technician. */
export function technicianMayVoid(status: string, reportVersion: number): boolean {
  return canVoidImages(ROLE, status, reportVersion);
}

/**
 * Why the upload page offers no "Void image" (null: it does, or the case has no void to offer): a
 * signed case is amended first; an amendment's images are a hematologist's to void (D12).
 */
export function voidLockedNote(status: string, reportVersion: number): string | null {
  if (technicianMayVoid(status, reportVersion)) return null;
  if (isSigned(status)) return "Signed: an image is voided only in an amendment, by a hematologist (on the review page).";
  if (isAmendmentOpen(status, reportVersion) && !mayChangeBeforeSignature(ROLE, reportVersion)) {
    return `Being amended (signed as version ${reportVersion}): only a hematologist may void one of its images, whose cells an earlier version signed (on the review page).`;
  }
  return null;
}

/** What the analysis table offers for voiding, in the one list of the case's images the page shows. */
export interface VoidOffer {
  /** The image each row's "Void image" voids, by slide id; a row not here has no button. */
  targets: ReadonlyMap<string, NumberedImage>;
  /** Why no row has one, said once above the table (null: nothing to say). */
  lockedNote: string | null;
}

/**
 * Which rows get "Void image": those of images the header has loaded and the poll still lists, in a
 * case the technician may void in. Not a voided row (a void is final), nor one just uploaded and
 * not yet numbered (the button would void an image the technician cannot name, and without the
 * version the API checks a void against). No case loaded: nothing is offered (fails closed).
 */
export function voidOffer<P extends { slideId: string }>(
  rows: readonly AnalysisRow<P>[],
  theCase: { status: string; reportVersion: number } | null,
): VoidOffer {
  const voidable = rows.flatMap((r) => (r.kind === "image" && r.image ? [r.image] : []));
  if (!theCase || voidable.length === 0) return { targets: new Map(), lockedNote: null };
  if (!technicianMayVoid(theCase.status, theCase.reportVersion)) return { targets: new Map(), lockedNote: voidLockedNote(theCase.status, theCase.reportVersion) };
  return { targets: new Map(voidable.map((image) => [image.id, image])), lockedNote: null };
}

/** The analysis panel's words when no image is left to analyse; voided ones are still listed below it. */
export function noAnalysisNote(voidedCount: number): string {
  if (voidedCount === 0) return "No images in this case yet.";
  return `No images to analyse: ${voidedCount === 1 ? "the one uploaded was" : `all ${voidedCount} uploaded were`} voided (listed below).`;
}
