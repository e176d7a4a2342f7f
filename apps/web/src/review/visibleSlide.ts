// Which of the case's reviewed images the field view shows. The one chosen (in the selector, or by
// following the cursor) can leave the list: voided from the Images panel, the page reloads without
// it. The chosen id then names no image, and the view would vanish while the selector, which cannot
// show a missing option, showed another image that choosing again would not bring back.

/** The chosen image if it is still listed, else the cursor cell's, else the first field image (the page's first choice), else the first. */
export function visibleSlide<S extends { id: string; kind: string }>(
  slides: readonly S[],
  chosenId: string | null,
  cursorSlideId: string | null,
): S | null {
  return (
    slides.find((s) => s.id === chosenId) ??
    slides.find((s) => s.id === cursorSlideId) ??
    slides.find((s) => s.kind === "FIELD") ??
    slides[0] ??
    null
  );
}
