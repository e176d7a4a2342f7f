// A rejected upload says why, clearly, and nothing appears in the case.
import { createCase, expect, login, test, uniqueAccession } from "../support/fixtures";

test("a file that is not an image is refused with a clear message and leaves the case empty", async ({ page }) => {
  await login(page, "tech");
  await createCase(page, uniqueAccession("E2E-BAD"));
  await page.getByTestId("file-input").setInputFiles(process.env.E2E_BAD_FILE!);
  const item = page.getByTestId("upload-item").first();
  await expect(item).toHaveAttribute("data-state", "rejected");
  await expect(page.getByTestId("upload-error")).toContainText("not-an-image.png");
  await expect(page.getByTestId("upload-error")).toContainText(/nothing was stored/i);
  await page.reload();
  await expect(page.getByTestId("analysis-empty")).toBeVisible();
  await expect(page.getByTestId("upload-case-status")).toHaveText("RECEIVED");
});
