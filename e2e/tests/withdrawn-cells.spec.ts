// A retraction withdraws the decisions of the cells it did not void (a clotted specimen: "redraw
// requested"). When the redraw's smear arrives in a new amendment, the clotted smear's cells are
// still counted: the review page says so beside the progress and the sign-off button, marks each
// tile and the selected cell, and the sign-off dialog refuses a result until each is decided again
// or its image is voided. Voiding the clotted smear lifts it, and the redraw's result is signed.
import { uploadAnalysed } from "../support/analysedCase";
import { apiLogin, apiQuery, expect, fields, login, test, uniqueAccession } from "../support/fixtures";
import { signedOutCase } from "../support/signedCase";

const RETRACTION = "Amended report: retracted, no valid result";
const CELLS = "query($c: ID!) { case(id: $c) { status cells(first: 500) { nodes { id reviewCount currentLabel withdrawnInVersion } } } }";
type Cells = { case: { status: string; cells: { nodes: { id: string; reviewCount: number; currentLabel: string; withdrawnInVersion: number | null }[] } } };

async function signAs(page: import("@playwright/test").Page) {
  const id = page.getByTestId("signoff-login");
  if (await id.count()) await id.fill("hema");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
}

test("cells a retraction withdrew block a result until decided again or voided, and the review page says which", async ({ page, request }) => {
  test.setTimeout(180_000);
  const caseId = await signedOutCase(request, fields()[0]!, uniqueAccession("E2E-WITHDRAWN"), 1);
  const hema = await apiLogin(request, "hema");
  const amend = (version: number, reason: string) =>
    apiQuery(request, hema, "mutation($c: ID!, $r: String!, $v: Int!) { amendCase(input: { caseId: $c, reason: $r, expectedReportVersion: $v }) { id } }", { c: caseId, r: reason, v: version });
  expect((await amend(1, "Clot in the tube: the count is not valid")).errors).toBeUndefined();

  // Version 2 retracts with the cells still there (nothing voided): a redraw is requested.
  await login(page, "hema");
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");
  await page.getByTestId("open-signoff").click();
  await page.getByTestId("signoff-meaning").selectOption(RETRACTION);
  await signAs(page);
  await page.getByTestId("signoff-retraction-ack").check();
  await page.getByTestId("signoff-submit").click();
  await page.waitForURL(`**/cases/${caseId}/report`);
  await expect(page.getByTestId("report-retracted")).toBeVisible();
  const clotted = (await apiQuery<Cells>(request, hema, CELLS, { c: caseId })).data!.case.cells.nodes;
  expect(clotted.length).toBeGreaterThan(0);

  // The review page of the retracted case reads as no result either: RETRACTED, in the report's
  // words, and the cells it kept recorded, with no differential and no CAR-T figures.
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("review-retracted")).toContainText("RETRACTED. Retracted: no valid result. Version 1 of this report must not be used");
  await expect(page.getByTestId("review-report-version")).toHaveText("2 (signed retraction: no valid result)");
  await expect(page.getByTestId("review-no-result")).toContainText(`No valid result: this version reports no differential count. The ${clotted.length} cell`);
  await expect(page.getByTestId("diff-cart-summary")).toHaveCount(0);
  await expect(page.getByTestId("differential")).toHaveCount(0);

  // The redraw's smear arrives in a new amendment and is analysed.
  expect((await amend(2, "The redraw's smear arrived")).errors).toBeUndefined();
  await uploadAnalysed(request, caseId, [fields()[1]!]);
  const now = (await apiQuery<Cells>(request, hema, CELLS, { c: caseId })).data!.case.cells.nodes;
  const withdrawn = now.filter((c) => c.withdrawnInVersion === 2);
  expect(withdrawn.map((c) => c.id).sort()).toEqual(clotted.map((c) => c.id).sort());
  // The redraw's cells are decided; the clotted smear's are left as the retraction left them.
  for (const c of now.filter((c) => c.withdrawnInVersion === null)) {
    const done = await apiQuery(request, hema, "mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }", {
      c: [{ cellId: c.id, expectedReviewCount: c.reviewCount, expectedLabel: c.currentLabel, ...(c.currentLabel === "unidentified" ? { reason: "seen" } : {}) }],
    });
    expect(done.errors).toBeUndefined();
  }

  // The review page says how many, where, and why a result cannot be signed yet.
  const n = withdrawn.length;
  const counted = `${n} cell${n === 1 ? "" : "s"} withdrawn by the retraction (version 2) still counted`;
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("review-withdrawn-progress")).toHaveText(counted);
  await expect(page.getByTestId("signoff-withdrawn-cells")).toContainText(`${counted}: signing a result is blocked`);
  const tiles = page.locator('[data-testid="cell-tile"][data-withdrawn="true"]');
  await expect(tiles).toHaveCount(n);
  await tiles.first().click();
  await expect(page.getByTestId("current-decision-withdrawn")).toHaveText(
    "Decision withdrawn by the retraction signed as version 2: decide it again if that retraction was wrong, or void its image.",
  );
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-blocked")).toContainText(`Signing a result is blocked: ${n} cell`);
  await expect(page.getByTestId("signoff-submit")).toBeDisabled();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("signoff-dialog")).toBeHidden();

  // The clotted smear (image 1) is voided: nothing withdrawn is counted, and the result signs as version 3.
  const images = page.getByTestId("case-images");
  await images.getByTestId("void-image").first().click();
  const dialog = page.getByTestId("void-dialog");
  await dialog.getByTestId("ask-input").fill("Clotted specimen, replaced by the redraw");
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog).toBeHidden();
  await expect(images.getByTestId("voided-image")).toHaveCount(1);
  await expect(page.getByTestId("review-withdrawn-progress")).toHaveCount(0);
  await expect(page.getByTestId("signoff-withdrawn-cells")).toHaveCount(0);
  await expect(tiles).toHaveCount(0);
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-blocked")).toHaveCount(0);
  await expect(page.getByTestId("signoff-amendment")).toContainText("makes version 3");
  await signAs(page);
  await page.getByTestId("signoff-submit").click();
  await page.waitForURL(`**/cases/${caseId}/report`);
  await expect(page.getByTestId("report-version")).toHaveText(/^3\s*$/);
  await expect(page.getByTestId("report-retracted")).toHaveCount(0);
  await expect(page.getByTestId("report-differential")).toBeVisible();
});
