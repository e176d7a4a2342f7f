// Voiding an image uploaded into the wrong case, from the review page: the hematologist gives a
// reason, the image stays listed as voided (who, when, why), and its cells leave the review (the
// gallery, the progress count) while the case's other image stays under review.
import type { APIRequestContext } from "@playwright/test";
import { analysedCase } from "../support/analysedCase";
import { apiLogin, apiQuery, expect, fields, login, openReviewFromWorklist, test, uniqueAccession } from "../support/fixtures";

const REASON = "Field of another patient's smear, uploaded into this case by mistake";

/** The case's images with the ids of their cells, as the API lists them. */
async function cellsBySlide(request: APIRequestContext, caseId: string): Promise<{ slideId: string; cellIds: string[] }[]> {
  const hema = await apiLogin(request, "hema");
  const slides = (await apiQuery<{ case: { slides: { id: string }[] } }>(request, hema, "query($c: ID!) { case(id: $c) { slides { id } } }", { c: caseId })).data!.case.slides;
  const out: { slideId: string; cellIds: string[] }[] = [];
  for (const s of slides) {
    const r = await apiQuery<{ case: { cells: { nodes: { id: string }[] } } }>(
      request,
      hema,
      "query($c: ID!, $s: ID!) { case(id: $c) { cells(first: 500, slideId: $s) { nodes { id } } } }",
      { c: caseId, s: s.id },
    );
    out.push({ slideId: s.id, cellIds: r.data!.case.cells.nodes.map((n) => n.id) });
  }
  return out;
}

test("a hematologist voids one image with a reason: it shows as voided with the reason, and its cells are no longer offered", async ({ page, request }) => {
  test.setTimeout(180_000);
  const accession = uniqueAccession("E2E-VOID");
  // Two analysed smear fields, created through the API (the upload page has its own tests).
  const { caseId, fileNames } = await analysedCase(request, fields().slice(0, 2), accession);
  // The image with the most cells is voided, so that its cells leaving is something to see.
  const [voided, kept] = (await cellsBySlide(request, caseId)).sort((a, b) => b.cellIds.length - a.cellIds.length);
  expect(voided!.cellIds.length).toBeGreaterThan(0);

  await login(page, "hema");
  await openReviewFromWorklist(page, accession, "IN_REVIEW");
  const progress = page.getByTestId("review-progress");
  await expect(progress).toContainText(`of ${voided!.cellIds.length + kept!.cellIds.length} reviewed`);
  const tile = (id: string) => page.locator(`[data-testid="cell-tile"][data-cell-id="${id}"]`);
  await expect(tile(voided!.cellIds[0]!)).toHaveCount(1);

  const image = page.getByTestId("case-images").locator(`li[data-slide-id="${voided!.slideId}"]`);
  await expect(image).toHaveAttribute("data-testid", "case-image");
  // Named by the file it was uploaded as: what tells the people who uploaded it which one it is.
  await expect(image.getByTestId("image-file-name")).toHaveText(fileNames.get(voided!.slideId)!);
  await image.getByTestId("void-image").click();
  const dialog = page.getByTestId("void-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("ask-input").fill(REASON);
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog).toBeHidden();

  // Still listed, as voided: by whom, and why.
  await expect(image).toHaveAttribute("data-testid", "voided-image");
  await expect(image.getByTestId("voided-line")).toContainText(REASON);
  await expect(image.getByTestId("voided-line")).toContainText("Voided by Dr. Hana Hematologist");
  await expect(image.getByTestId("void-image")).toHaveCount(0);
  // The other image is not touched.
  await expect(page.getByTestId("case-images").locator(`li[data-slide-id="${kept!.slideId}"]`)).toHaveAttribute("data-testid", "case-image");

  // Its cells are no longer offered: not in the gallery, not in the progress, and no longer a slide to choose.
  for (const id of voided!.cellIds) await expect(tile(id)).toHaveCount(0);
  await expect(progress).toContainText(`of ${kept!.cellIds.length} reviewed`);
  await expect(page.getByTestId("slide-select").locator(`option[value="${voided!.slideId}"]`)).toHaveCount(0);
  if (kept!.cellIds.length > 0) await expect(tile(kept!.cellIds[0]!)).toHaveCount(1);

  // The record agrees: the reason is kept with the image.
  const hema = await apiLogin(request, "hema");
  const after = await apiQuery<{ case: { slides: { id: string; voidedAt: string | null; voidReason: string | null }[] } }>(
    request,
    hema,
    "query($c: ID!) { case(id: $c) { slides { id voidedAt voidReason } } }",
    { c: caseId },
  );
  expect(after.data!.case.slides.find((s) => s.id === voided!.slideId)).toMatchObject({ voidReason: REASON, voidedAt: expect.any(String) });
});

test("after image 1 is voided, the slide selector names each image by the Images panel's number for it", async ({ page, request }) => {
  test.setTimeout(180_000);
  const accession = uniqueAccession("E2E-VOIDNUM");
  // Three analysed smear fields, in upload order (the order the panel lists and numbers them).
  const { fileNames } = await analysedCase(request, fields().slice(0, 3), accession);
  const [first, second, third] = [...fileNames.keys()];

  await login(page, "hema");
  await openReviewFromWorklist(page, accession, "IN_REVIEW");
  const panel = page.getByTestId("case-images");
  const row = (id: string) => panel.locator(`li[data-slide-id="${id}"]`);
  const select = page.getByTestId("slide-select");
  /** The number the panel gives an image, and the one the selector's option for it gives. */
  const numbers = async (id: string) => ({
    panel: /^Image (\d+)\b/.exec(((await row(id).textContent()) ?? "").trim())?.[1],
    selector: /^Image (\d+)\b/.exec(((await select.locator(`option[value="${id}"]`).textContent()) ?? "").trim())?.[1],
  });
  for (const [i, id] of [first!, second!, third!].entries()) expect(await numbers(id)).toEqual({ panel: String(i + 1), selector: String(i + 1) });

  await row(first!).getByTestId("void-image").click();
  const dialog = page.getByTestId("void-dialog");
  await dialog.getByTestId("ask-input").fill(REASON);
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog).toBeHidden();
  await expect(row(first!)).toHaveAttribute("data-testid", "voided-image");
  await expect(select.locator(`option[value="${first}"]`)).toHaveCount(0);

  // The images left keep their numbers in both lists: image 2 is "Image 2" in the selector too, not "Image 1".
  await expect(select.locator("option")).toHaveCount(2);
  expect(await numbers(second!)).toEqual({ panel: "2", selector: "2" });
  expect(await numbers(third!)).toEqual({ panel: "3", selector: "3" });
  // Named by the file it was uploaded as, in the selector as in the panel (hematologists are shown file names).
  await expect(select.locator(`option[value="${third}"]`)).toContainText(fileNames.get(third!)!);
  await expect(row(third!).getByTestId("image-file-name")).toHaveText(fileNames.get(third!)!);
});

test("a void refused because a colleague voided the image meanwhile keeps the typed reason in the dialog, says why, and the page shows the image as it is now", async ({ page, request }) => {
  test.setTimeout(180_000);
  const accession = uniqueAccession("E2E-VOID-RACE");
  const { caseId } = await analysedCase(request, fields().slice(0, 1), accession);
  await login(page, "hema");
  await openReviewFromWorklist(page, accession, "IN_REVIEW");
  const image = page.getByTestId("case-images").locator("li").first();
  await expect(image).toHaveAttribute("data-testid", "case-image");
  const slideId = (await image.getAttribute("data-slide-id"))!;
  await image.getByTestId("void-image").click();
  const dialog = page.getByTestId("void-dialog");
  const MINE = "Blurred field: the cells cannot be told apart, and a colleague may not have seen this";
  await dialog.getByTestId("ask-input").fill(MINE);

  // Meanwhile a colleague voids it, with a reason of their own.
  const hema = await apiLogin(request, "hema");
  const slides = await apiQuery<{ case: { slides: { id: string; updatedAt: string }[] } }>(request, hema, "query($c: ID!) { case(id: $c) { slides { id updatedAt } } }", { c: caseId });
  const shown = slides.data!.case.slides.find((s) => s.id === slideId)!;
  const THEIRS = "Colleague: field of another patient's smear";
  const theirs = await apiQuery(request, hema, "mutation($s: ID!, $r: String!, $u: DateTime!) { voidSlide(slideId: $s, reason: $r, expectedUpdatedAt: $u) { id } }", {
    s: slideId,
    r: THEIRS,
    u: shown.updatedAt,
  });
  expect(theirs.errors).toBeUndefined();

  // Refused: the dialog stays, with what was typed and why; behind it the page shows the image as voided.
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog.getByTestId("ask-error")).toContainText(/already voided|changed since your page loaded/);
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("ask-input")).toHaveValue(MINE);
  const row = page.getByTestId("case-images").locator(`li[data-slide-id="${slideId}"]`);
  await expect(row).toHaveAttribute("data-testid", "voided-image");
  await expect(row.getByTestId("voided-line")).toContainText(THEIRS);
  await dialog.getByTestId("ask-cancel").click();
  await expect(dialog).toBeHidden();

  // The record holds the colleague's void alone: the refused one changed nothing.
  const after = await apiQuery<{ case: { slides: { id: string; voidReason: string | null }[] } }>(request, hema, "query($c: ID!) { case(id: $c) { slides { id voidReason } } }", { c: caseId });
  expect(after.data!.case.slides.find((s) => s.id === slideId)!.voidReason).toBe(THEIRS);
});
