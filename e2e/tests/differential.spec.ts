// The live differential of the review page, in a browser: the notice that many cells were left
// unidentified (the share is of the white cells and unidentified cells together, not of every
// object), and the CAR-T line of a case whose model can call CAR-T.
import pg from "pg";
import { expect, login, openReviewFromWorklist, test } from "../support/fixtures";

// In review, never signed (E2E_CASES in apps/api/src/seed/demoCases.ts).
const ACCESSION = "DEMO-0002";

// How sure the small demo model is varies from run to run: half of the cells nobody has decided
// get a newer abstention (as an analysis under the threshold leaves them), so the notice's case
// is there whatever the model did.
test.beforeAll(async () => {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    // A copy of the champion (a prediction per cell and model version): the newer abstentions are its.
    const { rows: models } = await db.query(
      `INSERT INTO model_version SELECT * FROM jsonb_populate_record(NULL::model_version,
         (SELECT to_jsonb(m) || jsonb_build_object('id', gen_random_uuid(), 'version', m.version || '-e2e-abstain', 'status', 'ARCHIVED', 'trainingRunId', NULL, 'parentId', NULL)
          FROM model_version m ORDER BY "createdAt" LIMIT 1))
       RETURNING id`,
    );
    const { rows } = await db.query(
      `INSERT INTO prediction (id, "cellId", "modelVersionId", label, probabilities, confidence, abstained, "createdAt")
       SELECT gen_random_uuid(), id, $2, label, jsonb_build_object(label, 0.2), 0.2, true, now() + interval '1 second'
       FROM (SELECT DISTINCT ON (c.id) c.id, p.label, row_number() OVER (ORDER BY c.id) AS n
             FROM cell c JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId" JOIN prediction p ON p."cellId" = c.id
             WHERE k.accession = $1 AND c."reviewCount" = 0
             ORDER BY c.id, p."createdAt" DESC) newest
       WHERE n % 2 = 0
       RETURNING "cellId"`,
      [ACCESSION, models[0].id],
    );
    for (const r of rows) await db.query(`UPDATE cell SET "currentLabel" = 'unidentified' WHERE id = $1`, [r.cellId]);
  } finally {
    await db.end();
  }
});

test("the review page warns when a tenth or more of the candidate white cells are left unidentified", async ({ page }) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, ACCESSION, "IN_REVIEW");
  const count = async (testId: string) => Number((await page.getByTestId(testId).textContent())?.trim() ?? "NaN");
  const unidentified = await count("diff-count-unidentified");
  const counted = await count("diff-counted");
  // Half the undecided cells abstain: well over the tenth.
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

test("a slide chosen in the selector stays chosen, though the cursor's cell is on another", async ({ page }) => {
  // Two smear fields (E2E_CASES), signed or amended by the time this runs: read-only review.
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  let caseId: string;
  let slides: { id: string; imageSha256: string }[];
  try {
    caseId = (await db.query(`SELECT id FROM "case" WHERE accession = 'DEMO-0005'`)).rows[0].id;
    slides = (await db.query(`SELECT id, "imageSha256" FROM slide WHERE "caseId" = $1 AND "analysisStatus" <> 'FAILED'`, [caseId])).rows;
  } finally {
    await db.end();
  }
  expect(slides.length).toBeGreaterThanOrEqual(2);
  await login(page, "hema");
  await page.goto(`/cases/${caseId}/review`);
  const select = page.getByTestId("slide-select");
  const shown = await select.inputValue();
  const other = slides.find((s) => s.id !== shown)!;
  await select.selectOption(other.id);
  // Give the page time to snap back, as it did when it followed the cursor on every render.
  await page.waitForTimeout(500);
  await expect(select).toHaveValue(other.id);
  await expect(page.locator(`image[href="/api/images/${other.imageSha256}"]`)).toHaveCount(1);
});
