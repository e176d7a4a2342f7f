// Confirming a whole gallery group at once (CellaVision's "accept all" for a class): the page asks
// first, and starts that question on Cancel, since Enter is the review page's confirm key and a
// reflexive press must not accept the group. Confirmed, every cell of the group is decided.
import type { Page } from "@playwright/test";
import pg from "pg";
import { expect, login, openReviewFromWorklist, signIn, test } from "../support/fixtures";

// In review, never signed, used by no other test (E2E_CASES in apps/api/src/seed/demoCases.ts).
const ACCESSION = "DEMO-0002";

// The small demo model of the e2e run is rarely sure (it abstains on most cells), and bulk confirm
// takes only confident calls of a model no rollback withdrew (the champion here; a withdrawn
// model's calls are checked one by one), never CAR-T calls (each is confirmed by looking at that cell). Predictions
// are append-only, one per cell and model, and there is one champion: so three cells of the case
// are copied (same crops, boxes one pixel wider) with a call of the champion at 99% of a class
// other than CAR-T, and a group is confident; and three more (two pixels wider) with a CAR-T call
// at 99%, which bulk confirm must leave out all the same.
test.beforeAll(async () => {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    await db.query(
      `WITH champion AS (SELECT id, labels FROM model_version WHERE status = 'CHAMPION'),
       -- CAR-T however a model spells it (CART_LABEL in apps/api/src/modules/cases/whiteCellDifferential.ts).
       chosen AS (
         SELECT 1 AS widen, (SELECT l FROM unnest(labels) l WHERE l !~* '^car[-_ ]?t$' ORDER BY l LIMIT 1) AS label FROM champion
         UNION ALL
         SELECT 2, (SELECT l FROM unnest(labels) l WHERE l ~* '^car[-_ ]?t$' ORDER BY l LIMIT 1) FROM champion),
       copies AS (
         INSERT INTO cell
         SELECT (jsonb_populate_record(NULL::cell, to_jsonb(c) || jsonb_build_object(
                  'id', gen_random_uuid(), 'width', c.width + chosen.widen, 'reviewCount', 0, 'currentLabel', chosen.label, 'createdAt', now()))).*
         FROM (SELECT c.* FROM cell c JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
               WHERE k.accession = $1 AND s."voidedAt" IS NULL AND s."analysisStatus" = 'DONE'
               ORDER BY c.id LIMIT 3) c
         JOIN chosen ON chosen.label IS NOT NULL
         -- A worker restarted after a failure runs this again: the same boxes are not copied twice.
         ON CONFLICT DO NOTHING
         RETURNING id, "currentLabel")
       INSERT INTO prediction (id, "cellId", "modelVersionId", label, probabilities, confidence, abstained, "createdAt")
       SELECT gen_random_uuid(), copies.id, champion.id, copies."currentLabel", jsonb_build_object(copies."currentLabel", 0.99), 0.99, false, now()
       FROM copies, champion`,
      [ACCESSION],
    );
  } finally {
    await db.end();
  }
});

/**
 * Sends a decision: to a cell nobody has decided (Enter on one already decided only moves on),
 * confirmed; one the AI abstained on is confirmed unidentified, which asks why first.
 */
async function confirmAnUndecidedCell(page: Page) {
  await page.keyboard.press("u");
  await page.keyboard.press("Enter");
  const reason = page.getByTestId("reason-dialog");
  if (await reason.waitFor({ state: "visible", timeout: 2_000 }).then(() => true, () => false)) {
    await page.getByTestId("reason-input").fill("too degenerated to classify");
    await page.getByTestId("reason-submit").click();
  }
}

test("a gallery group is confirmed at once only by choosing to: Enter on the question cancels", async ({ page }) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const progress = page.getByTestId("review-progress");
  const reviewed = async () => Number(/(\d+)\s+of/.exec((await progress.textContent()) ?? "")![1]);
  const before = await reviewed();

  // CAR-T calls, however confident, are never confirmed in bulk (the API refuses them too): their
  // group has no bulk action, and says why.
  const cartExcluded = page.getByTestId("bulk-excluded-car_t");
  await expect(cartExcluded).toHaveText("CAR-T cell calls are confirmed one by one");
  await expect(page.getByTestId("bulk-confirm-car_t")).toHaveCount(0);

  const bulk = page.locator('[data-testid^="bulk-confirm-"]:enabled').first();
  const n = Number(/Confirm (\d+)/.exec((await bulk.textContent()) ?? "")![1]);
  await bulk.click();
  await expect(page.getByTestId("ask-cancel")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("ask-dialog")).toBeHidden();
  // Nothing is saved: a confirmation would show in the progress within a moment.
  await page.waitForTimeout(1_000);
  expect(await reviewed()).toBe(before);

  await bulk.click();
  await page.getByTestId("ask-submit").click();
  await expect.poll(reviewed).toBe(before + n);
  // The CAR-T calls are still there to decide one by one.
  await expect(cartExcluded).toBeVisible();
});

test("a decision that failed to save is not lost by leaving: the page asks first", async ({ page }) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const reviewUrl = page.url();
  // The API is unreachable for decisions (the page itself keeps working).
  await page.route("**/api/graphql", (route) =>
    /ConfirmCells|ReclassifyCell/.test(route.request().postData() ?? "") ? route.fulfill({ status: 503, body: "unavailable" }) : route.fallback(),
  );
  await confirmAnUndecidedCell(page);
  await expect(page.getByTestId("review-error")).toBeVisible();

  // An in-app link: asked, and staying keeps the page (and the failed decision) in place.
  const asked: string[] = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  await page.getByRole("link", { name: "← Worklist" }).click();
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toMatch(/has not been saved/);
  expect(page.url()).toBe(reviewUrl);
  await expect(page.getByTestId("review-workspace")).toBeVisible();

  // Choosing to leave leaves.
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("link", { name: "← Worklist" }).click();
  await page.waitForURL("**/worklist");
});

test("number and letter keys can be switched off (speech input, tremor); the choice is kept", async ({ page }) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  // Any decision the keys made would be a request; none may go out.
  const decisions: string[] = [];
  page.on("request", (r) => {
    if (/ConfirmCells|ReclassifyCell/.test(r.postData() ?? "")) decisions.push(r.url());
  });
  await page.getByTestId("character-keys").uncheck();
  await page.locator("body").click({ position: { x: 1, y: 1 } }); // focus back on the page
  const keys = page.getByTestId("label-keys").locator("kbd");
  for (const key of await keys.allTextContents()) await page.keyboard.press(key);
  await page.keyboard.press("g");
  // Arrows still move (not a character key): the page is listening, and the keys above were ignored.
  const cursor = await page.locator('[data-testid="cell-tile"][aria-current="true"]').getAttribute("data-cell-id");
  await page.keyboard.press("ArrowRight");
  await expect(page.locator('[data-testid="cell-tile"][aria-current="true"]')).not.toHaveAttribute("data-cell-id", cursor ?? "");
  await expect(page.getByTestId("reason-dialog")).toBeHidden();
  await expect(page.getByText("Grad-CAM off")).toBeVisible();
  await expect(page.getByTestId("current-gradcam")).toHaveCount(0);
  // The help marks the letter shortcuts off, and what they did is a button away.
  await expect(page.getByTestId("keys-off-note")).toBeVisible();
  await expect(page.getByTestId("review-keys-help").locator('kbd[data-off="true"]')).toHaveText(["U", "L", "G", "H"]);
  const gradcam = page.getByTestId("gradcam-toggle");
  await expect(gradcam).toHaveAttribute("aria-pressed", "false");
  await gradcam.click();
  await expect(gradcam).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("current-gradcam")).toBeVisible();
  await expect(page.getByTestId("current-gradcam")).toHaveAttribute("data-gradcam", "on");
  await expect(page.getByText("Grad-CAM on")).toBeVisible();
  // "Next unreviewed" as a button: to another cell, one not decided yet (the CAR-T calls are left one by one).
  const here = await page.locator('[data-testid="cell-tile"][aria-current="true"]').getAttribute("data-cell-id");
  await page.getByTestId("jump-unreviewed").click();
  const landed = page.locator('[data-testid="cell-tile"][aria-current="true"]');
  await expect(landed).not.toHaveAttribute("data-cell-id", here ?? "");
  await expect(landed).toHaveAttribute("data-reviewed", "false");
  expect(decisions).toEqual([]);
  await page.reload();
  await expect(page.getByTestId("character-keys")).not.toBeChecked();
  await page.getByTestId("character-keys").check();
  // Switched back on, the page has the keys again at once (the box does not keep focus).
  const before = await page.locator('[data-testid="cell-tile"][aria-current="true"]').getAttribute("data-cell-id");
  await page.keyboard.press("ArrowRight");
  await expect(page.locator('[data-testid="cell-tile"][aria-current="true"]')).not.toHaveAttribute("data-cell-id", before ?? "");
});

test("the idle warning is answered from the keyboard, and its Enter decides no cell", async ({ page }) => {
  await page.clock.install();
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const progress = page.getByTestId("review-progress");
  const before = await progress.textContent();
  // 29 minutes without input (the demo's timeout is 30): the warning appears, its button focused.
  await page.clock.fastForward("29:00");
  await expect(page.getByTestId("idle-warning")).toBeVisible();
  await expect(page.getByTestId("idle-stay")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("idle-warning")).toBeHidden();
  await page.clock.fastForward("00:05");
  await expect(page.getByTestId("idle-warning")).toBeHidden();
  await expect(progress).toHaveText(before ?? "");
});

test("a session the API ended leaves the page even with a decision saving: no 'leave?' question holds it", async ({ page }) => {
  // A sign-in of its own: this one ends, the cached demo sessions must not.
  await signIn(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const asked: string[] = [];
  page.on("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  // The decision is answered late with the API's refusal of the session.
  await page.route("**/api/graphql", async (route) => {
    if (!/ConfirmCells|ReclassifyCell/.test(route.request().postData() ?? "")) return route.fallback();
    await new Promise((r) => setTimeout(r, 300));
    await route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ errors: [{ message: "Session expired", extensions: { code: "UNAUTHENTICATED" } }] }) });
  });
  await confirmAnUndecidedCell(page);
  await page.waitForURL("**/session-ended**");
  expect(asked).toEqual([]);
});
