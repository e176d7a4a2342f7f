// What voiding one of the case's images asks and sends, without React (useVoidImage wraps it for
// the review page's Images panel and the upload page's analysis table): both pages ask the same
// question and send the same request, so that a void, which cannot be undone, reads alike wherever
// it is made.
import { VOID_REASON_LENGTH } from "@rcmnet/api/voidRules";
import type { AskOptions } from "@/components/AskDialog";
import { type CaseImage, type NumberedImage, voidTitle } from "./caseImages";

/** The void dialog: the image named by its number and file name, and what a void does. */
export function voidQuestion(image: NumberedImage): AskOptions {
  return {
    title: voidTitle(image, image.number),
    message:
      "Its cells leave the review and the count, and will not be used for retraining. The image and its cells stay on record, marked voided with your name and reason. A void cannot be undone.",
    label: `Why does this image not belong to the case? (required, ${VOID_REASON_LENGTH.min} to ${VOID_REASON_LENGTH.max} characters, recorded in the audit trail)`,
    minLength: VOID_REASON_LENGTH.min,
    confirm: "Void image",
  };
}

/**
 * VOID_SLIDE's variables. expectedUpdatedAt is the version of the image the dialog was opened on,
 * and stays so for every try from that dialog: a void cannot be undone, and one refused because
 * the image changed (its analysis found cells meanwhile) must not go through on the next click
 * while the dialog still covers the change. The user closes the dialog, looks at the image as it is
 * now (the page has loaded it again), and asks again.
 */
export function voidVariables(image: Pick<CaseImage, "id" | "updatedAt">, reason: string) {
  return { slideId: image.id, reason, expectedUpdatedAt: image.updatedAt };
}
