// A case whose images are still being analysed says so on the review page, and the page follows
// the analysis: it does not look like a case without white cells, nor stay stale until a reload.
import pg from "pg";
import { createCase, expect, login, openReviewFromWorklist, signIn, test, uniqueAccession } from "../support/fixtures";

test("images still being analysed are named as such, and the page picks up the finished analysis by itself", async ({ page }) => {
  await login(page, "tech");
  const caseId = await createCase(page, uniqueAccession("E2E-PENDING"));
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    // An image received and queued, not analysed yet (no worker will take it: no job is queued).
    const { rows } = await db.query(
      `INSERT INTO slide (id, "caseId", kind, "imageSha256", "mimeType", "byteSize", width, height, "analysisStatus", "uploadedById", "updatedAt")
       SELECT gen_random_uuid(), $1, 'FIELD', repeat('0', 64), 'image/png', 100, 640, 480, 'PENDING', id, now() FROM "user" WHERE login = 'tech'
       RETURNING id`,
      [caseId],
    );
    await db.query(`UPDATE "case" SET status = 'ANALYZING' WHERE id = $1`, [caseId]);

    await login(page, "hema");
    // The page follows the analysis by background polls, which do not count as use of the session
    // (an unattended review page must still sign out for inactivity).
    const polls: (string | undefined)[] = [];
    let answered = 0;
    page.on("request", (r) => {
      if (/CaseProgress/.test(r.postData() ?? "")) polls.push(r.headers()["x-rcmnet-background"]);
    });
    page.on("response", (r) => {
      if (/CaseProgress/.test(r.request().postData() ?? "")) answered++;
    });
    await page.goto(`/cases/${caseId}/review`);
    await expect(page.getByTestId("review-analysing")).toContainText("1 image is still being analysed");
    await expect(page.getByText("still being analysed: their cells appear here")).toBeVisible();
    await expect(page.getByText("No white cells were found")).toHaveCount(0);

    // The analysis finishes (no cells on this field) once every progress request sent so far has
    // been answered with it still running (on a loaded machine a request sent before the change
    // could be answered after it, and the page would need no further poll): the page then shows
    // it without a reload, from a poll sent after the change.
    await expect.poll(() => polls.length > 0 && answered === polls.length, { timeout: 15_000 }).toBe(true);
    const before = polls.length;
    await db.query(`UPDATE slide SET "analysisStatus" = 'DONE', "updatedAt" = now() WHERE id = $1`, [rows[0].id]);
    await db.query(`UPDATE "case" SET status = 'IN_REVIEW' WHERE id = $1`, [caseId]);
    await expect(page.getByTestId("review-analysing")).toHaveCount(0, { timeout: 15_000 });
    expect(polls.length).toBeGreaterThan(before);
    expect(polls.slice(1).every((h) => h === "1")).toBe(true); // every poll after the first load
    await expect(page.getByText("No white cells were found in this case's images.")).toBeVisible();
  } finally {
    await db.end();
  }
});

test("the worklist and the sign-off dialog name images that could not be analysed, and asks the signer to sign without them", async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    // DEMO-0001 (in review, used by no other test) gets a second field whose analysis failed.
    await db.query(
      `INSERT INTO slide (id, "caseId", kind, "imageSha256", "mimeType", "byteSize", width, height, "analysisStatus", "analysisError", "uploadedById", "updatedAt")
       SELECT gen_random_uuid(), k.id, 'FIELD', repeat('1', 64), 'image/png', 100, 640, 480, 'FAILED', 'analysis failed (internal error)', u.id, now()
       FROM "case" k, "user" u WHERE k.accession = 'DEMO-0001' AND u.login = 'tech'`,
    );
  } finally {
    await db.end();
  }
  await login(page, "hema");
  // The worklist says so before the case is opened: it moved on to review like any other.
  await page.goto("/worklist");
  await page.getByTestId("filter-accession").fill("DEMO-0001");
  await expect(page.locator('[data-testid="case-row"][data-accession="DEMO-0001"]').getByTestId("failed-images")).toHaveText("1 image failed");
  await openReviewFromWorklist(page, "DEMO-0001", "IN_REVIEW");
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-failed-images")).toContainText("1 image of this case could not be analysed: this count leaves its cells out");
  await expect(page.getByTestId("signoff-failed-ack")).not.toBeChecked();
  await expect(page.getByTestId("signoff-submit")).toBeDisabled();
});

test("signing out forgets this tab's signature series: the next person at the workstation types their user ID", async ({ page }) => {
  // A sign-in of its own: it ends here, the cached demo sessions must not.
  await signIn(page, "hema");
  await page.evaluate(() => sessionStorage.setItem("rcmnet.signatureSeries", "1"));
  await page.getByTestId("sign-out").click();
  await page.waitForURL("**/login**");
  expect(await page.evaluate(() => sessionStorage.getItem("rcmnet.signatureSeries"))).toBeNull();
});
