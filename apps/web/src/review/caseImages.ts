// The case's images as the review page sorts them: those whose cells are reviewed and counted, and
// apart from them the images still being analysed, those whose analysis failed, and those voided
// (uploaded into the wrong case: kept on record, listed with who voided them, when and why).
import { VOID_ROLES } from "@rcmnet/api/voidRules";
import type { Role } from "@/auth/roles";
import { isAnalysing, isSigned, mayChangeBeforeSignature } from "@/lib/caseDetails";
import { formatDateTime } from "@/lib/format";

/** A slide as CASE_HEADER reads it. */
export interface CaseImage {
  id: string;
  kind: "FIELD" | "CROP";
  imageSha256: string;
  width: number;
  height: number;
  /** The file's name as uploaded; null before it was recorded, and for roles not shown patient references. */
  originalName: string | null;
  analysisStatus: string;
  analysisError: string | null;
  /** Passed back to voidSlide: a void over an analysis that moved on since is refused. */
  updatedAt: string;
  voidedAt: string | null;
  voidReason: string | null;
  voidedBy: { login: string; displayName: string } | null;
}

/** An image with its number on the review page (numberImages). */
export type NumberedImage<T extends CaseImage = CaseImage> = T & { number: number };

/**
 * Numbers the case's images 1, 2, 3… in the order given: all of them, as the API lists them (upload
 * order), voided and failed ones included. The Images panel and the slide selector both name an
 * image by this number, so that "Image 2" is the same image in both, whichever images were voided or
 * failed: a void, which cannot be undone, must never land on the image next to the one meant.
 */
export function numberImages<T extends CaseImage>(images: readonly T[]): NumberedImage<T>[] {
  return images.map((image, i) => ({ ...image, number: i + 1 }));
}

export function sortImages<T extends CaseImage>(images: readonly T[]) {
  const live = images.filter((s) => s.voidedAt === null);
  return {
    /** Their cells are on the page (FieldView, gallery, counts). */
    counted: live.filter((s) => s.analysisStatus !== "FAILED"),
    failed: live.filter((s) => s.analysisStatus === "FAILED").length,
    analysing: live.filter((s) => isAnalysing(s.analysisStatus)).length,
    voided: images.filter((s) => s.voidedAt !== null),
  };
}

/**
 * "Image 2 (field_03.jpg): smear field, 640×480", as plain text (a dialog's title). The file name
 * is how whoever uploaded an image recognises it, the question before voiding one; the number
 * alone is the order of upload. On the page the name goes in a <bdi> (ImageName), so that a
 * right-to-left name cannot reorder the words around it.
 */
export function imageName(image: Pick<CaseImage, "kind" | "width" | "height" | "originalName">, n: number): string {
  const file = image.originalName ? ` (${image.originalName})` : "";
  return `Image ${n}${file}: ${imageKind(image)}`;
}

/**
 * imageName for a <select>'s option, which holds text only: the file name between Unicode isolates
 * (FSI…PDI), as <bdi> isolates it on the page.
 */
export function imageOptionText(image: Pick<CaseImage, "kind" | "width" | "height" | "originalName">, n: number): string {
  return imageName({ ...image, originalName: image.originalName ? `\u2068${image.originalName}\u2069` : null }, n);
}

/** The void dialog's title. Only the first word lowered: the file name keeps its case (two names may differ only by it). */
export function voidTitle(image: Pick<CaseImage, "kind" | "width" | "height" | "originalName">, n: number): string {
  return `Void ${imageName(image, n).replace(/^Image/, "image")}?`;
}

/** "smear field, 640×480": what an image is, without its number or file name. */
export function imageKind(image: Pick<CaseImage, "kind" | "width" | "height">): string {
  return `${image.kind === "FIELD" ? "smear field" : "single-cell crop"}, ${image.width}×${image.height}`;
}

/** "Voided by NAME at TIME: REASON", as the page and the report say it. */
export function voidedLine(image: Pick<CaseImage, "voidedAt" | "voidReason" | "voidedBy">): string {
  const who = image.voidedBy ? image.voidedBy.displayName : "someone";
  return `Voided by ${who} at ${formatDateTime(image.voidedAt)}: ${image.voidReason ?? "reason withheld for your role"}`;
}

/**
 * The API's rule (voidSlide): the roles that upload or review, only before the case is signed, and
 * in an amendment only a hematologist (the image's cells were signed in an earlier version).
 */
export function canVoidImages(role: Role | null | undefined, caseStatus: string, reportVersion: number): boolean {
  return role != null && (VOID_ROLES as readonly string[]).includes(role) && !isSigned(caseStatus) && mayChangeBeforeSignature(role, reportVersion);
}
