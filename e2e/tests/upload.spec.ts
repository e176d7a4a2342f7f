// The technician's upload page: files the API would refuse are refused before a byte is sent,
// a failed upload is sent again with Retry, a file being sent can be cancelled, and leaving or a
// stray drop does not silently lose the queue.
import type { Page } from "@playwright/test";
import sharp from "sharp";
import { apiLogin, apiQuery, createCase, expect, login, test, uniqueAccession } from "../support/fixtures";

const MB = 1024 * 1024;

/**
 * A small blank field of its own colour: not one of the journeys' fields, which the retraining
 * journey needs in one patient's case only. Blank, it is analysed to no cells, quickly.
 */
async function blankField(name: string, colour: { r: number; g: number; b: number }) {
  const buffer = await sharp({ create: { width: 320, height: 240, channels: 3, background: colour } }).png().toBuffer();
  return { name, mimeType: "image/png", buffer };
}

/** Every request to the dashboard's upload route, as the browser sends it. */
function watchUploads(page: Page): string[] {
  const sent: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/uploads") sent.push(r.url());
  });
  return sent;
}

function row(page: Page, name: string) {
  return page.getByTestId("upload-item").filter({ hasText: name });
}

test("a file of another format or over 25 MB is refused in the browser, with what to do, and nothing is sent", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-PRECHECK"));
  const sent = watchUploads(page);
  await expect(page.getByTestId("upload-limits")).toContainText("up to 25 MB and 40 megapixels per image");

  // The picker: a TIFF.
  await page.getByTestId("file-input").setInputFiles({ name: "smear.tiff", mimeType: "image/tiff", buffer: Buffer.from("II*\0 not really a TIFF") });
  // Dropped, files skip the picker's accept filter: a phone's HEIC, and a "PNG" of 25.2 MB (made
  // in the page: handed over by the test, 25 MB would take longer than the action may).
  const dropped = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File(["not a JPEG"], "IMG_0042.HEIC", { type: "image/heic" }));
    dt.items.add(new File([new Uint8Array(bytes)], "huge.png", { type: "image/png" }));
    return dt;
  }, 25 * MB + 200 * 1024);
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: dropped });

  await expect(page.getByTestId("upload-item")).toHaveCount(3);
  for (const name of ["smear.tiff", "huge.png", "IMG_0042.HEIC"]) await expect(row(page, name)).toHaveAttribute("data-state", "rejected");
  await expect(row(page, "smear.tiff").getByTestId("upload-error")).toContainText("is not a JPEG or PNG image (image/tiff): export it as JPEG or PNG");
  await expect(row(page, "huge.png").getByTestId("upload-error")).toContainText("huge.png is 25.2 MB; the limit is 25 MB per image. Export it as JPEG");
  await expect(row(page, "IMG_0042.HEIC").getByTestId("upload-error")).toContainText("not a JPEG or PNG image");
  // Refusals are announced once, politely, not as an alert per file.
  await expect(page.getByTestId("upload-summary")).toHaveText("3 images refused (see why in the list).");
  await expect(page.getByTestId("upload-list").getByRole("alert")).toHaveCount(0);
  // Nothing to retry: another try would be refused the same way.
  await expect(page.getByTestId("upload-retry")).toHaveCount(0);
  await page.waitForTimeout(500); // a request sent would have shown by now
  expect(sent).toEqual([]);
  await expect(page.getByTestId("analysis-empty")).toBeVisible();
});

test("a file dropped beside the drop zone does not replace the page", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-STRAY"));
  // Cancelled, the events do not reach the browser's default: opening the dropped image.
  const [overCancelled, dropCancelled] = await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["x"], "field.jpg", { type: "image/jpeg" }));
    const fire = (type: string) => !document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    return [fire("dragover"), fire("drop")];
  });
  expect([overCancelled, dropCancelled]).toEqual([true, true]);
  await expect(page.getByTestId("upload-item")).toHaveCount(0);
});

test("an upload cut off by the network is sent again with Retry, the same file, and arrives", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-RETRY"));
  const field = await blankField("retry-me.png", { r: 231, g: 224, b: 238 });
  let tries = 0;
  await page.route("**/api/uploads**", (route) => {
    tries += 1;
    return tries === 1 ? route.abort("connectionreset") : route.fallback();
  });
  await page.getByTestId("file-input").setInputFiles(field);
  const item = row(page, field.name);
  await expect(item).toHaveAttribute("data-state", "failed");
  await expect(item.getByTestId("upload-error")).toContainText("The server could not be reached");
  await expect(page.getByTestId("upload-summary")).toHaveText("1 image not sent: press Retry.");

  // A double-click retries once: its second click does not land on the Cancel the button became.
  await item.getByTestId("upload-retry").dblclick();
  await expect(item).toHaveAttribute("data-state", "done");
  expect(tries).toBe(2);
  // The button has gone with the upload: focus is on the file's row, not dropped to the page.
  await expect(item).toBeFocused();
  await expect(page.getByTestId("upload-item")).toHaveCount(1); // the same row, not a second one
  await expect(page.getByTestId("upload-summary")).toHaveText("1 image uploaded.");
  await expect(page.getByTestId("analysis-slide")).toHaveCount(1);
});

test("a file being sent can be cancelled and the next one goes on; leaving while files are sending asks first", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-CANCEL"));
  const [first, second] = [await blankField("stalls.png", { r: 236, g: 230, b: 240 }), await blankField("goes-on.png", { r: 240, g: 236, b: 228 })];
  // The first upload gets no answer (a stalled connection) until the test lets it go.
  let releaseStalled: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => {
    releaseStalled = resolve;
  });
  let tries = 0;
  await page.route("**/api/uploads**", async (route) => {
    tries += 1;
    if (tries > 1) return route.fallback();
    await stalled;
    await route.abort().catch(() => undefined); // cancelled by the page already
  });
  try {
    await page.getByTestId("file-input").setInputFiles([first, second]);
    const firstRow = row(page, first.name);
    const secondRow = row(page, second.name);
    await expect(firstRow).toHaveAttribute("data-state", "uploading");
    await expect(secondRow).toHaveAttribute("data-state", "queued");
    // The picker stays usable (and keeps keyboard focus) while files are sent: more can be queued.
    await expect(page.getByTestId("file-input")).toBeEnabled();

    // Leaving would drop the queue: asked first, and staying keeps the page.
    const asked: string[] = [];
    page.once("dialog", (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByTestId("nav-worklist").click();
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toMatch(/still being sent/);
    expect(new URL(page.url()).pathname).toBe("/upload");

    await firstRow.getByTestId("upload-cancel").click();
    await expect(firstRow).toHaveAttribute("data-state", "cancelled");
    // The same button now offers Retry, and keyboard focus is still on it.
    await expect(firstRow.getByTestId("upload-retry")).toBeFocused();
    await expect(secondRow).toHaveAttribute("data-state", "done");
    await expect(page.getByTestId("upload-summary")).toHaveText("1 image uploaded; 1 image cancelled.");
    await expect(page.getByTestId("analysis-slide")).toHaveCount(1);
  } finally {
    releaseStalled();
  }
});

test("the white-cell count entered after the analysis has finished is saved, not refused as someone else's change", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-WBC-AFTER"));
  await page.getByTestId("file-input").setInputFiles(await blankField("analysed-first.png", { r: 228, g: 236, b: 240 }));
  await expect(row(page, "analysed-first.png")).toHaveAttribute("data-state", "done");
  // The worker moves the case to review (its updatedAt with it) while the page stays open.
  await expect(page.getByTestId("upload-case-status")).toHaveText("IN_REVIEW", { timeout: 90_000 });
  // The badge follows the poll; the editor's details (and the updatedAt a save is checked against)
  // follow the header reload that poll starts: what a person sees before pressing Edit.
  await expect(page.getByTestId("case-details")).toHaveAttribute("data-status", "IN_REVIEW");

  // The count arrives from the analyser: typed in, with its reason, and saved first time.
  await page.getByTestId("edit-case-details").click();
  await page.getByTestId("edit-wbc-input").fill("7.5");
  await page.getByTestId("edit-reason-input").fill("WBC count from the analyser");
  await page.getByTestId("save-case-details").click();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 7.5 ×10⁹/L");
  await expect(page.getByTestId("case-details-error")).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 7.5 ×10⁹/L");
});

test("an edit refused because the case changed meanwhile keeps what was typed, says what changed, and saves on the next press", async ({ page, request }) => {
  await login(page, "tech");
  const caseId = await createCase(page, uniqueAccession("E2E-WBC-RACE"));
  await page.getByTestId("edit-case-details").click();
  await page.getByTestId("edit-wbc-input").fill("5.9");
  await page.getByTestId("edit-reason-input").fill("WBC count from the analyser");

  // Meanwhile someone else corrects the timepoint, out of this page's sight.
  const token = await apiLogin(request, "tech");
  const read = await apiQuery<{ case: { updatedAt: string } }>(request, token, "query($id: ID!) { case(id: $id) { updatedAt } }", { id: caseId });
  const other = await apiQuery(request, token, "mutation($input: UpdateCaseInput!) { updateCase(input: $input) { id } }", {
    input: { id: caseId, timepoint: "day +8", expectedUpdatedAt: read.data!.case.updatedAt, reason: "timepoint as on the tube" },
  });
  expect(other.errors).toBeUndefined();

  await page.getByTestId("save-case-details").click();
  const changed = page.getByTestId("case-details-changed");
  await expect(changed).toContainText("The case changed meanwhile (timepoint: day +7 → day +8)");
  await expect(changed).toContainText("your entries are kept — check them and save again");
  // Nothing was saved or re-sent by itself; what was typed is still there, and the field the
  // technician left alone now shows the other change.
  await expect(page.getByTestId("case-details-form")).toBeVisible();
  await expect(page.getByTestId("edit-wbc-input")).toHaveValue("5.9");
  await expect(page.getByTestId("edit-reason-input")).toHaveValue("WBC count from the analyser");
  await expect(page.getByRole("textbox", { name: "Timepoint" })).toHaveValue("day +8");

  await page.getByTestId("save-case-details").click();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 5.9 ×10⁹/L");
  await expect(page.getByTestId("case-details")).toContainText("Timepoint: day +8");
  await page.reload();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 5.9 ×10⁹/L");
  await expect(page.getByTestId("case-details")).toContainText("Timepoint: day +8");
});

test("a technician voids image 2 on the upload page, with a reason; #3 there is the review page's Image 3", async ({ page }) => {
  test.setTimeout(180_000);
  const REASON = "Field of another patient's smear, uploaded into this case by mistake";
  await login(page, "tech");
  const caseId = await createCase(page, uniqueAccession("E2E-TECHVOID"));
  const files = [
    await blankField("void-1.png", { r: 233, g: 226, b: 236 }),
    await blankField("void-2.png", { r: 226, g: 236, b: 233 }),
    await blankField("void-3.png", { r: 238, g: 233, b: 224 }),
  ];
  // Sent one after another, in this order: the upload order that numbers them.
  await page.getByTestId("file-input").setInputFiles(files);
  for (const f of files) await expect(row(page, f.name)).toHaveAttribute("data-state", "done");
  await expect(page.getByTestId("upload-case-status")).toHaveText("IN_REVIEW", { timeout: 90_000 });

  const table = page.getByTestId("analysis-panel");
  /** The analysis table's row numbered n ("#n"), voided or not. */
  const numbered = (n: number) => table.locator("tr").filter({ has: page.locator('[data-testid="analysis-image"]', { hasText: new RegExp(`^\\s*#${n}\\b`) }) });
  for (const [i, f] of files.entries()) await expect(numbered(i + 1)).toContainText(f.name);

  // One list of the images: no second panel to match numbers against; "Void image" is on the row.
  await expect(page.getByTestId("case-images")).toHaveCount(0);
  await expect(table.getByTestId("void-image")).toHaveCount(3);
  const secondId = await numbered(2).getAttribute("data-slide-id");
  expect(secondId).toBeTruthy();
  const second = table.locator(`tr[data-slide-id="${secondId}"]`);
  await expect(second.getByTestId("analysis-file-name")).toHaveText(files[1]!.name);
  await second.getByTestId("void-image").click();
  const dialog = page.getByTestId("void-dialog");
  await expect(dialog).toContainText(`Void image 2 (${files[1]!.name})`);
  await dialog.getByTestId("ask-input").fill(REASON);
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog).toBeHidden();
  await expect(second).toHaveAttribute("data-testid", "analysis-voided");
  await expect(second.getByTestId("analysis-voided-line")).toContainText(`Voided by Theo Technician`);
  await expect(second.getByTestId("void-image")).toHaveCount(0);
  await expect(page.getByTestId("void-error")).toHaveCount(0);

  // The analysis table keeps the numbers: #2 is listed as voided, and #3 is still the third file (not "#2").
  await expect(numbered(2)).toHaveAttribute("data-testid", "analysis-voided");
  await expect(numbered(2).getByTestId("analysis-voided-line")).toContainText(REASON);
  await expect(table.getByTestId("analysis-slide")).toHaveCount(2);
  await expect(table.getByTestId("void-image")).toHaveCount(2);
  await expect(numbered(3)).toHaveAttribute("data-testid", "analysis-slide");
  await expect(numbered(3).getByTestId("analysis-file-name")).toHaveText(files[2]!.name);
  const thirdId = await numbered(3).getAttribute("data-slide-id");
  expect(thirdId).toBeTruthy();
  // The case header was loaded again: its image list says the void too.
  await expect(page.getByTestId("analysis-summary")).toContainText("2 of 2 images analysed (1 voided, not counted)");

  // The hematologist's review page: "Image 3" is the very image the upload page lists as #3.
  await login(page, "hema");
  await page.goto(`/cases/${caseId}/review`);
  const review = page.getByTestId("case-images");
  const image3 = review.locator("li").filter({ hasText: /^\s*Image 3\b/ });
  await expect(image3).toHaveCount(1);
  await expect(image3).toHaveAttribute("data-slide-id", thirdId!);
  await expect(image3.getByTestId("image-file-name")).toHaveText(files[2]!.name);
  await expect(review.locator(`li[data-slide-id="${thirdId}"]`)).toHaveAttribute("data-testid", "case-image");
  await expect(review.locator("li").filter({ hasText: /^\s*Image 2\b/ })).toHaveAttribute("data-testid", "voided-image");
});
