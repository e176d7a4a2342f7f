"use client";
// Every image of the case, in upload order, each with a "Void image" button where the signed-in
// role may void one (an image uploaded into the wrong case: wrong patient, wrong slide, a blurred
// field). A void is final and keeps the record: a voided image stays listed, greyed, with who
// voided it, when and why; its cells leave the review and the count.
import { imageKind, type NumberedImage, voidedLine } from "./caseImages";
import { useVoidImage } from "./useVoidImage";

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
 * The void itself (its question, its refusal) is useVoidImage's, shared with the upload page.
 */
export function CaseImagesPanel({ images, canVoid, onVoided }: { images: NumberedImage[]; canVoid: boolean; onVoided: () => void }) {
  const { voidButton, feedback } = useVoidImage({ onVoided });
  if (images.length === 0) return null;

  return (
    <section className="panel no-print" data-testid="case-images" aria-label="Images of this case" style={{ marginBottom: "0.5rem" }}>
      <h2 style={{ marginTop: 0 }}>Images ({images.length})</h2>
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
              {canVoid && !voided && voidButton(image)}
            </li>
          );
        })}
      </ul>
      {feedback}
    </section>
  );
}
