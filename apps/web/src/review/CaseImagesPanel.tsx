"use client";
// Every image of the case, in upload order, each with a "Void image" button where the signed-in
// role may void one (an image uploaded into the wrong case: wrong patient, wrong slide, a blurred
// field). A void is final and keeps the record: a voided image stays listed, greyed, with who
// voided it, when and why; its cells leave the review and the count.
import { VOID_REASON_LENGTH } from "@rcmnet/api/voidRules";
import { useRef } from "react";
import { useAsk } from "@/components/AskDialog";
import { ErrorBox } from "@/components/ui";
import { gql } from "@/lib/gql";
import { VOID_SLIDE } from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import { imageKind, type NumberedImage, voidedLine, voidTitle } from "./caseImages";

/** The image's name on the page: the file name isolated (<bdi>), its case as uploaded. */
function ImageName({ image }: { image: NumberedImage }) {
  return (
    <>
      Image {image.number}
      {image.originalName && (
        <>
          {" ("}
          <bdi data-testid="image-file-name">{image.originalName}</bdi>
          {")"}
        </>
      )}
      : {imageKind(image)}
    </>
  );
}

function analysisWord(status: string): string {
  return status === "DONE" ? "analysed" : status === "FAILED" ? "analysis failed" : "being analysed";
}

/**
 * images: all of the case's images, numbered (numberImages) as the slide selector numbers them.
 * onRefused: a void the API refused (an analysis moved on since the images were loaded: they are
 * loaded again, for the next try). lockedNote: why there is no "Void image" (a case being amended).
 */
export function CaseImagesPanel({
  images,
  canVoid,
  onVoided,
  onRefused,
  lockedNote = null,
}: {
  images: NumberedImage[];
  canVoid: boolean;
  onVoided: () => void;
  onRefused?: () => void;
  lockedNote?: string | null;
}) {
  const { ask, dialog } = useAsk({ testId: "void-dialog" });
  const { act, busy, actionError } = useAction(async () => onVoided());
  // The images as last loaded: a void sent again from the dialog after a refusal (its images were
  // loaded again meanwhile) names the version now shown, not the one the dialog opened on.
  const latestImages = useRef(images);
  latestImages.current = images;
  if (images.length === 0) return null;

  async function voidImage(image: NumberedImage) {
    // Refused (a case signed meanwhile, an analysis moved on), the dialog stays open with the reason as typed.
    await ask(
      {
        title: voidTitle(image, image.number),
        message:
          "Its cells leave the review and the count, and will not be used for retraining. The image and its cells stay on record, marked voided with your name and reason. A void cannot be undone.",
        label: `Why does this image not belong to the case? (required, ${VOID_REASON_LENGTH.min} to ${VOID_REASON_LENGTH.max} characters, recorded in the audit trail)`,
        minLength: VOID_REASON_LENGTH.min,
        confirm: "Void image",
      },
      (reason) =>
        act(async () => {
          const shown = latestImages.current.find((i) => i.id === image.id) ?? image;
          try {
            await gql(VOID_SLIDE, { slideId: image.id, reason, expectedUpdatedAt: shown.updatedAt });
          } catch (e) {
            onRefused?.();
            throw e;
          }
        }),
    );
  }

  return (
    <section className="panel no-print" data-testid="case-images" aria-label="Images of this case" style={{ marginBottom: "0.5rem" }}>
      <h2 style={{ marginTop: 0 }}>Images ({images.length})</h2>
      {!canVoid && lockedNote && (
        <p className="muted" data-testid="void-locked">
          {lockedNote}
        </p>
      )}
      <ul style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {images.map((image) => {
          const voided = image.voidedAt !== null;
          return (
            <li
              key={image.id}
              className={`row${voided ? " muted" : ""}`}
              style={{ alignItems: "center", gap: "0.75rem", marginBottom: "0.4rem" }}
              data-testid={voided ? "voided-image" : "case-image"}
              data-slide-id={image.id}
            >
              {/* Greyed, not faded: the words of a voided image keep their contrast. */}
              <img
                src={`/api/images/${image.imageSha256}`}
                alt=""
                width={64}
                height={Math.max(1, Math.round((64 * image.height) / Math.max(1, image.width)))}
                style={{ objectFit: "cover", maxHeight: 64, filter: voided ? "grayscale(1)" : undefined }}
              />
              <span style={{ flex: 1 }}>
                {voided ? (
                  <s>
                    <ImageName image={image} />
                  </s>
                ) : (
                  <ImageName image={image} />
                )}
                {voided ? (
                  <>
                    {" "}
                    <span data-testid="voided-line">{voidedLine(image)}</span>
                  </>
                ) : (
                  <span className="muted"> · {analysisWord(image.analysisStatus)}</span>
                )}
              </span>
              {canVoid && !voided && (
                <button type="button" disabled={busy} onClick={() => void voidImage(image)} data-testid="void-image">
                  Void image
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <ErrorBox error={actionError} testId="void-error" />
      {dialog}
    </section>
  );
}
