// A cell's decision history on the review page: after a hematologist reclassifies a cell with a
// reason, the cell's history (H) lists, newest first, the change (from what, to what, by whom,
// why, under which report version) above the AI call it overrode (model and confidence).
import { analysedCase } from "../support/analysedCase";
import { expect, fields, labelKeys, login, openReviewFromWorklist, test, uniqueAccession } from "../support/fixtures";

const REASON = "Granular cytoplasm on a closer look";

test("a reclassified cell's history shows the AI call and the change with its reason", async ({ page, request }) => {
  test.setTimeout(180_000);
  // A case of its own: every seeded case in review is another spec's.
  const accession = uniqueAccession("E2E-HISTORY");
  await analysedCase(request, [fields()[0]!], accession);
  await login(page, "hema");
  await openReviewFromWorklist(page, accession, "IN_REVIEW");

  const tile = page.getByTestId("cell-tile").first();
  const cellId = await tile.getAttribute("data-cell-id");
  const cell = page.locator(`[data-testid="cell-tile"][data-cell-id="${cellId}"]`);
  await tile.click();
  await expect(cell).toHaveAttribute("data-current", "true");
  // What the page says of the AI call ("41.9% · rcmnet-demo v1"): the history names the same.
  const [confidence, model] = ((await page.getByTestId("current-ai-confidence").textContent()) ?? "").trim().split(" · ");
  expect(model, "the cell has an AI call").toBeTruthy();

  // Before any decision: the AI call alone, and no human decision yet.
  const history = page.getByTestId("cell-history");
  await expect(history).toHaveCount(0);
  await page.keyboard.press("h");
  await expect(history).toBeVisible();
  await expect(page.getByTestId("history-toggle")).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByRole("region", { name: "History" })).toBeVisible();
  const entries = history.getByTestId("cell-history-entry");
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toHaveAttribute("data-kind", "ai");
  await expect(history.getByTestId("cell-history-gap")).toHaveText("No human decision yet");

  // Reclassify to a label that is neither the cell's nor the AI's: a reason is asked for.
  const currentLabel = await cell.getAttribute("data-label");
  const aiLabel = await page.getByTestId("current-ai-label").getAttribute("data-label");
  const target = (await labelKeys(page)).find(([, label]) => ![currentLabel, aiLabel, "unidentified", "artifact"].includes(label));
  expect(target, `a label other than ${currentLabel} and the AI's ${aiLabel}`).toBeTruthy();
  await page.keyboard.press(target![0]);
  await expect(page.getByTestId("reason-dialog")).toBeVisible();
  await page.getByTestId("reason-input").fill(REASON);
  await page.getByTestId("reason-submit").click();
  await expect(cell).toHaveAttribute("data-reviewed", "true");
  await expect(cell).toHaveAttribute("data-label", target![1]);

  // The cursor moved on; back on the changed cell, its history has the decision on top.
  await cell.click();
  await expect(cell).toHaveAttribute("data-current", "true");
  const targetName = (await page.getByTestId("current-human-label").locator("strong").textContent())!;
  await expect(entries).toHaveCount(2);
  const [change, call] = [entries.nth(0), entries.nth(1)];
  await expect(change).toHaveAttribute("data-kind", "human");
  await expect(change).toContainText(`→ ${targetName} by Dr. Hana Hematologist`);
  await expect(change).toContainText(`reason ‘${REASON}’`);
  await expect(change).toContainText("for report v1");
  await expect(change).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
  await expect(call).toHaveAttribute("data-kind", "ai");
  await expect(call).toContainText(model!);
  await expect(call).toContainText(confidence!);
  await expect(history.getByTestId("cell-history-gap")).toHaveCount(0);

  // The key hides it again, and the key list says which key it is.
  await expect(page.getByTestId("review-keys-help")).toContainText("H history");
  await page.keyboard.press("h");
  await expect(history).toHaveCount(0);
  await expect(page.getByTestId("history-toggle")).toHaveAttribute("aria-expanded", "false");
});
