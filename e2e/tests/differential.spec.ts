// The live differential of the review page, in a browser: the notice that many cells were left
// unidentified (the share is of the white cells and unidentified cells together, not of every
// object), and the CAR-T line of a case whose model can call CAR-T.
import { expect, login, openReviewFromWorklist, test } from "../support/fixtures";

// In review, never signed (E2E_CASES in apps/api/src/seed/demoCases.ts). The small demo model of
// the e2e run abstains on most cells, which show as unidentified until a person decides.
const ACCESSION = "DEMO-0002";

test("the review page warns when a tenth or more of the candidate white cells are left unidentified", async ({ page }) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const count = async (testId: string) => Number((await page.getByTestId(testId).textContent())?.trim() ?? "NaN");
  const unidentified = await count("diff-count-unidentified");
  const counted = await count("diff-counted");
  // This case is well over the tenth (the model abstains on most cells).
  expect(unidentified / (unidentified + counted)).toBeGreaterThanOrEqual(0.1);
  const notice = page.getByTestId("diff-left-out");
  await expect(notice).toContainText(`${unidentified} of ${unidentified + counted} white cells and unidentified cells`);
  await expect(notice).toContainText("every share is biased");
  // The demo model has a CAR-T class: the CAR-T share is given, not "not assessed".
  if (counted > 0) {
    await expect(page.getByTestId("diff-cart-summary")).toContainText("of white cells");
    await expect(page.getByTestId("diff-cart-not-assessed")).toHaveCount(0);
  }
});
