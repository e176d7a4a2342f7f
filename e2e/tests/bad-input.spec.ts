// A rejected upload says why, clearly, and nothing appears in the case.
import sharp from "sharp";
import { createCase, expect, login, test, uniqueAccession } from "../support/fixtures";

test("a file that is not an image is refused with a clear message and leaves the case empty", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-BAD"));
  // Created, keyboard focus moves on to the next step: choosing images.
  await expect(page.getByTestId("file-input")).toBeFocused();
  await page.getByTestId("file-input").setInputFiles(process.env.E2E_BAD_FILE!);
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "rejected");
  await expect(page.getByTestId("upload-error")).toContainText("not-an-image.png");
  await expect(page.getByTestId("upload-error")).toContainText(/nothing was stored/i);
  await page.reload();
  await expect(page.getByTestId("analysis-empty")).toBeVisible();
  await expect(page.getByTestId("upload-case-status")).toHaveText("RECEIVED");
});

test("an image of 12-25 MB passes through the dashboard whole (not cut at the proxy's 10 MB); a field without white cells says so", async ({ page, baseURL }) => {
  await login(page, "tech");
  const caseId = await createCase(page, uniqueAccession("E2E-BIG"));
  // Stored uncompressed, a blank 2,200 x 2,200 field is a 14.5 MB PNG, over Next's 10 MB proxy
  // buffer; blank, it gives detection nothing to find, so the test waits on the transport alone.
  const size = 2200;
  const big = await sharp({ create: { width: size, height: size, channels: 3, background: { r: 236, g: 230, b: 240 } } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  expect(big.length).toBeGreaterThan(12 * 1024 * 1024);
  const res = await page.request.post(`${baseURL}/api/uploads?caseId=${caseId}&kind=FIELD`, {
    headers: { origin: baseURL! },
    multipart: { files: { name: "big.png", mimeType: "image/png", buffer: big } },
    timeout: 60_000,
  });
  expect(res.status(), await res.text()).toBe(201);
  expect((await res.json()).slides[0]).toMatchObject({ width: size, height: size, mimeType: "image/png" });
  // Blank, the field is analysed to 0 cells: the upload page tells the technician what to try.
  await page.reload();
  await expect(page.getByTestId("analysis-no-cells")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("analysis-slide").first()).toHaveAttribute("data-status", "DONE");
});

test("the case's white-cell count is added later with a reason; an impossible one is refused and nothing changes", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-WBC"));
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 4.2 ×10⁹/L");
  await page.getByTestId("edit-case-details").click();
  await page.getByTestId("edit-wbc-input").fill("0");
  await page.getByTestId("edit-reason-input").fill("count from the analyser");
  // The browser's own range check stops 0 first; past it (a value typed around it), the API refuses.
  await page.getByTestId("edit-wbc-input").evaluate((el) => el.removeAttribute("min"));
  await page.getByTestId("save-case-details").click();
  await expect(page.getByTestId("case-details-error")).toContainText("wbcCount must be above 0");
  await page.reload();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 4.2 ×10⁹/L");
  await page.getByTestId("edit-case-details").click();
  await page.getByTestId("edit-reason-input").fill("count from the analyser");
  await page.getByTestId("edit-wbc-input").fill("6.8");
  await page.getByTestId("save-case-details").click();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 6.8 ×10⁹/L");
  // Keyboard focus follows the form away and back, not dropped to the page.
  await expect(page.getByTestId("edit-case-details")).toBeFocused();
  await page.reload();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 6.8 ×10⁹/L");
});

test("another case cannot be started while this one's uploads are still going", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-SLOW"));
  // A slow network: each upload takes a while to be answered.
  await page.route("**/api/uploads**", async (route) => {
    await new Promise((r) => setTimeout(r, 1_500));
    await route.fallback();
  });
  await page.getByTestId("file-input").setInputFiles(process.env.E2E_BAD_FILE!);
  await expect(page.getByTestId("start-another-wait")).toBeVisible();
  await expect(page.getByTestId("start-another")).toHaveCount(0);
  // Settled (here refused, and the refusal stays on screen), the next case can start.
  await expect(page.getByTestId("upload-item").first()).toHaveAttribute("data-state", "rejected");
  await expect(page.getByTestId("start-another")).toBeVisible();
});
