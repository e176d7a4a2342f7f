// Confirming a whole gallery group at once (CellaVision's "accept all" for a class): the page asks
// first, and starts that question on Cancel, since Enter is the review page's confirm key and a
// reflexive press must not accept the group. Confirmed, every cell of the group is decided.
import { expect, login, test } from "../support/fixtures";

// In review, never signed, used by no other test (E2E_CASES in apps/api/src/seed/demoCases.ts).
const ACCESSION = "DEMO-0002";

test("a gallery group is confirmed at once only by choosing to: Enter on the question cancels", async ({ page }) => {
  await login(page, "hema");
  await page.goto("/worklist");
  await page.getByTestId("filter-accession").fill(ACCESSION);
  const row = page.locator(`[data-testid="case-row"][data-accession="${ACCESSION}"]`);
  await expect(row).toHaveAttribute("data-status", "IN_REVIEW");
  await row.getByTestId("open-review").click();
  await expect(page.getByTestId("review-workspace")).toBeVisible();
  const progress = page.getByTestId("review-progress");
  const reviewed = async () => Number(/(\d+)\s+of/.exec(await progress.innerText())![1]);
  const before = await reviewed();

  // Which groups hold confident AI calls depends on the demo model this machine trained.
  const bulk = page.locator('[data-testid^="bulk-confirm-"]:enabled').first();
  test.skip((await bulk.count()) === 0, "no group with a confident AI call on this machine's demo model");
  const n = Number(/Confirm (\d+)/.exec(await bulk.innerText())![1]);
  await bulk.click();
  await expect(page.getByTestId("ask-cancel")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  await page.waitForTimeout(300);
  expect(await reviewed()).toBe(before);

  await bulk.click();
  await page.getByTestId("ask-submit").click();
  await expect.poll(reviewed).toBe(before + n);
});
