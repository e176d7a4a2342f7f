// The whole loop, in order, as the people who do it: technician uploads -> cells and
// predictions appear -> hematologist corrects one cell with a reason and confirms the rest by
// keyboard -> signs off with password -> report shows the signature -> auditor sees every step
// with a valid chain -> data scientist snapshots and retrains -> admin approves the promotion ->
// a new upload is predicted by the new version.
import pg from "pg";
import { apiLogin, apiQuery, createCase, expect, fields, labelKeys, login, openReviewFromWorklist, test, uniqueAccession } from "../support/fixtures";
import { signedOutCase } from "../support/signedCase";

test.describe.configure({ mode: "serial" });

let caseId = "";
let accession = "";
let newModel = "";

/**
 * A training run of the newest snapshot queued as startTrainingRun queues one (run, trainModel
 * job, training.start audit event, in one transaction under its lock and with its check that no
 * run is active), but with its job due tomorrow: no worker takes it, so it stays QUEUED, and is
 * not stuck (its job is not due yet). Its id.
 */
async function queueHeldRun(): Promise<string> {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    await db.query("BEGIN");
    await db.query("SELECT pg_advisory_xact_lock(72430032)");
    const active = await db.query(`SELECT id FROM training_run WHERE status IN ('QUEUED', 'RUNNING')`);
    expect(active.rows, "a training run is already active").toEqual([]);
    // The recipe as the API stores it (parseTrainingConfig's defaults filled in).
    const config = { epochs: 1, frozenEpochs: 1, batchSize: 16, learningRate: 1e-3, fineTuneLearningRate: 2e-4, seed: 1 };
    const { rows } = await db.query<{ id: string; snapshotId: string; baseModelVersionId: string | null; startedById: string }>(
      `INSERT INTO training_run (id, "snapshotId", "baseModelVersionId", config, "startedById")
       SELECT gen_random_uuid(), s.id, (SELECT id FROM model_version WHERE status = 'CHAMPION'), $1::jsonb, u.id
       FROM dataset_snapshot s, "user" u WHERE u.login = 'ds' ORDER BY s."createdAt" DESC LIMIT 1
       RETURNING id, "snapshotId", "baseModelVersionId", "startedById"`,
      [JSON.stringify(config)],
    );
    const run = rows[0]!;
    await db.query(
      `INSERT INTO job (id, type, payload, "dedupeKey", "maxAttempts", "runAfter")
       VALUES (gen_random_uuid(), 'trainModel', $1::jsonb, $2, 3, CURRENT_TIMESTAMP + interval '1 day')`,
      [JSON.stringify({ runId: run.id }), `trainModel:${run.id}`],
    );
    await db.query(
      `INSERT INTO audit_event ("actorId", "actorLogin", action, "entityType", "entityId", after) VALUES ($1, 'ds', 'training.start', 'TrainingRun', $2, $3::jsonb)`,
      [run.startedById, run.id, JSON.stringify({ snapshotId: run.snapshotId, baseModelVersionId: run.baseModelVersionId, config })],
    );
    await db.query("COMMIT");
    return run.id;
  } catch (err) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

/**
 * Ends a held run as a worker does when its job ends out of attempts: the job FAILED, and the run
 * settled FAILED with its audit event (settleRunOfEndedJob, which the idle worker runs only every
 * 30 s: done here at once, in one transaction, under the run's lock as a cancel takes it).
 */
async function endHeldRun(runId: string): Promise<void> {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    await db.query("BEGIN");
    await db.query(`SELECT 1 FROM training_run WHERE id = $1 FOR UPDATE`, [runId]);
    const reason = "e2e: its job ended while the cancel question was open";
    const job = await db.query(
      `UPDATE job SET status = 'FAILED', error = $2, "finishedAt" = CURRENT_TIMESTAMP WHERE "dedupeKey" = $1 AND status = 'QUEUED'`,
      [`trainModel:${runId}`, reason],
    );
    expect(job.rowCount).toBe(1);
    const error = `the training job ended without closing the run: ${reason}`;
    const run = await db.query(
      `UPDATE training_run SET status = 'FAILED', "finishedAt" = CURRENT_TIMESTAMP, error = $2 WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [runId, error],
    );
    expect(run.rowCount).toBe(1);
    await db.query(
      `INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId", after, reason) VALUES ('system', 'training.status', 'TrainingRun', $1, $2::jsonb, 'its job had ended')`,
      [runId, JSON.stringify({ status: "FAILED", error })],
    );
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

/** The reasons of a run's training.cancel audit events, oldest first. */
async function cancelReasonsOf(runId: string): Promise<(string | null)[]> {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ reason: string | null }>(
      `SELECT reason FROM audit_event WHERE action = 'training.cancel' AND "entityId" = $1 ORDER BY seq`,
      [runId],
    );
    return rows.map((r) => r.reason);
  } finally {
    await db.end();
  }
}

async function waitForAnalysis(page: import("@playwright/test").Page) {
  const slide = page.getByTestId("analysis-slide").first();
  await expect(slide).toHaveAttribute("data-status", "DONE", { timeout: 90_000 });
  await expect(page.getByTestId("upload-case-status")).toHaveText("IN_REVIEW", { timeout: 30_000 });
}

test("technician uploads a smear field; cells and predictions appear", async ({ page }) => {
  await login(page, "tech");
  accession = uniqueAccession("E2E");
  caseId = await createCase(page, accession);
  await expect(page.getByTestId("analysis-empty")).toBeVisible();
  await page.getByTestId("file-input").setInputFiles(fields()[0]!);
  await expect(page.getByTestId("upload-item").first()).toHaveAttribute("data-state", "done");
  await waitForAnalysis(page);
  const cells = Number(await page.getByTestId("analysis-cells").first().innerText());
  expect(cells).toBeGreaterThan(0);
});

test("hematologist corrects one cell with a reason, confirms the rest by keyboard and signs off", async ({ page }, testInfo) => {
  await login(page, "hema");
  await openReviewFromWorklist(page, accession, "IN_REVIEW");
  // The field view names its classes (colour is not the only cue).
  await expect(page.getByTestId("field-legend").locator("span[data-label]").first()).toBeVisible();
  // Each box carries its class's key, as the legend does: one number per box.
  await expect(page.getByTestId("cell-box-key")).toHaveCount(await page.getByTestId("cell-box").count());
  await expect(page.getByTestId("cell-box-key").first()).toHaveText(/^[0-9?-]$/);
  await expect(page.getByTestId("field-legend").locator("kbd").first()).toHaveText(/^[0-9?-]$/);

  const progress = page.getByTestId("review-progress");
  const counts = async () => {
    const m = /(\d+)\s+of\s+(\d+)/.exec(await progress.innerText());
    return { reviewed: Number(m![1]), total: Number(m![2]) };
  };
  const { total } = await counts();
  expect(total).toBeGreaterThan(0);

  // AI label and human decision are shown apart; nothing is reviewed yet.
  const current = page.locator('[data-testid="cell-tile"][data-current="true"]');
  await expect(current).toHaveAttribute("data-reviewed", "false");
  await expect(page.getByTestId("current-human-label")).toHaveText("not reviewed");
  // The model is named ("name version"), not shown as an id, to a hematologist too.
  await expect(page.getByTestId("current-ai-confidence")).toContainText(/rcmnet-demo \S+/);
  const cellId = await current.getAttribute("data-cell-id");
  const aiLabel = await current.getAttribute("data-label");

  // Reclassify with a number key to a label that is not the AI's: the reason prompt opens.
  const keys = await labelKeys(page);
  const target = keys.find(([, label]) => label !== aiLabel && label !== "unidentified")!;
  await page.keyboard.press(target[0]!);
  await expect(page.getByTestId("reason-dialog")).toBeVisible();
  // The reason field has the focus: the reviewer types at once, no click.
  await expect(page.getByTestId("reason-input")).toBeFocused();
  // Typed key by key (keydown events, unlike fill): digits and Backspace in the reason are text,
  // not decisions on the cells behind the dialog.
  await page.getByTestId("reason-input").pressSequentially("1 2 0 ");
  await page.keyboard.press("Backspace");
  await page.waitForTimeout(500); // a decision would have been saved by now
  expect((await counts()).reviewed).toBe(0);
  await page.getByTestId("reason-input").fill("Nuclear shape and cytoplasm fit better on review");
  // Enter gives the reason (Shift+Enter would add a line).
  await page.getByTestId("reason-input").press("Enter");
  const corrected = page.locator(`[data-testid="cell-tile"][data-cell-id="${cellId}"]`);
  await expect(corrected).toHaveAttribute("data-reviewed", "true");
  await expect(corrected).toHaveAttribute("data-label", target[1]!);

  // The differential count follows the correction live, with the CAR-T share of white cells
  // and what the result may be used for.
  await expect(page.getByTestId(`diff-count-${target[1]}`)).not.toHaveText("0");
  await expect(page.getByTestId("diff-cart-summary")).toContainText("of white cells (95% CI");
  await expect(page.getByTestId("intended-use")).toContainText("Research use only");
  // The specimen the signature will record, and the absolute count its white-cell count gives.
  await expect(page.getByTestId("review-specimen")).toHaveText("peripheral blood, collected 2026-11-20 08:30:00 UTC, WBC 4.2 ×10⁹/L");
  await expect(page.getByTestId("diff-absolute")).toContainText("from WBC 4,200/µL");

  // Confirms the current cell: an AI abstention, shown as unidentified, would leave the cell out
  // of the white-cell count, so the page asks why first: in turn a usual reason by Alt+2, one by
  // click, and a typed one (Enter gives it).
  const givenReasons = new Set<string>();
  const confirmCurrent = async (act: () => Promise<void>) => {
    const shown = await current.getAttribute("data-label");
    await act();
    if (shown !== "unidentified") return;
    await expect(page.getByTestId("reason-left-out")).toBeVisible();
    const turn = givenReasons.size % 3;
    if (turn === 0) {
      await page.getByTestId("reason-input").press("Alt+2");
      givenReasons.add("Out of focus");
    } else if (turn === 1) {
      await page.getByTestId("reason-quick").first().click();
      givenReasons.add("Smudged or damaged cell");
    } else {
      await page.getByTestId("reason-input").fill("smudged: no nuclear detail to call");
      await page.getByTestId("reason-input").press("Enter");
      givenReasons.add("smudged: no nuclear detail to call");
    }
    await expect(page.getByTestId("reason-dialog")).toBeHidden();
  };

  // The same decisions as buttons (mouse, touch): confirm one cell with a click.
  const before = (await counts()).reviewed;
  await confirmCurrent(() => page.getByTestId("decide-confirm").click());
  await expect.poll(async () => (await counts()).reviewed).toBe(before + 1);

  // A held Enter decides one cell, not every cell it repeats over (keydown with repeat: true);
  // on a cell the AI named (an unidentified one would ask for a reason first).
  const current2 = page.locator('[data-testid="cell-tile"][data-current="true"]');
  const named = page.locator('[data-testid="cell-tile"][data-reviewed="false"]:not([data-label="unidentified"])');
  if ((await named.count()) >= 2) {
    await named.first().click();
    const held = await current2.getAttribute("data-cell-id");
    const r0 = (await counts()).reviewed;
    for (let i = 0; i < 4; i++) await page.keyboard.down("Enter");
    await page.keyboard.up("Enter");
    await expect(page.locator(`[data-testid="cell-tile"][data-cell-id="${held}"]`)).toHaveAttribute("data-reviewed", "true");
    await page.waitForTimeout(300);
    expect((await counts()).reviewed).toBe(r0 + 1);
    // Backspace goes back to the cell just decided, to correct a slip.
    await page.keyboard.press("Backspace");
    await expect(current2).toHaveAttribute("data-cell-id", held!);
    await named.first().click();
  }

  // Confirm every other cell with Enter (the cursor advances to the next unreviewed cell).
  for (let guard = 0; guard < total + 5; guard++) {
    const { reviewed } = await counts();
    if (reviewed === total) break;
    await confirmCurrent(() => page.keyboard.press("Enter"));
    await expect.poll(async () => (await counts()).reviewed).toBeGreaterThan(reviewed);
  }
  await expect(progress).toHaveText(`${total} of ${total} reviewed`);

  // Grad-CAM toggles with a key: the API explains the cell with the model that predicted it
  // (GET /cells/:id/gradcam through the web's image proxy), and the overlay really loads.
  await page.keyboard.press("g");
  const overlay = page.getByTestId("current-gradcam");
  await expect(overlay).toHaveAttribute("data-gradcam", "on");
  await expect.poll(() => overlay.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId("gradcam-unavailable")).toHaveCount(0);
  // Beside the crop, saying which call it explains.
  await expect(page.getByTestId("current-crop")).toBeVisible();
  await expect(page.getByTestId("gradcam-caption")).toContainText("Grad-CAM for the AI call");
  await page.keyboard.press("g");
  await expect(page.getByTestId("current-crop")).toBeVisible();

  const shot = testInfo.outputPath("review-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach("review-page", { path: shot, contentType: "image/png" });

  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-blocked")).toHaveCount(0);
  await expect(page.getByTestId("signoff-signer")).toHaveText("Dr. Hana Hematologist");
  // One cell was reclassified above: the summary says so and the meaning offered first is "with corrections".
  await expect(page.getByTestId("signoff-overrides")).toHaveText("1");
  // What is signed is in front of the signer: the case and its differential.
  await expect(page.getByTestId("signoff-summary")).toContainText(accession);
  await expect(page.getByTestId("signoff-differential")).toContainText(/%/);
  await expect(page.getByTestId("signoff-specimen")).toHaveText("Specimen: peripheral blood, collected 2026-11-20 08:30:00 UTC, WBC 4.2 ×10⁹/L");
  await expect(page.getByRole("dialog").getByTestId("diff-absolute")).toContainText("from WBC 4,200/µL");
  // Every figure the report will print is in front of the signer: the lymphocytes per µL too.
  await expect(page.getByRole("dialog").getByTestId("diff-absolute")).toContainText(/\(lymphocytes [\d,]+\/µL\)/);
  await expect(page.getByTestId("signoff-meaning")).toHaveValue(/with corrections/);
  // The dialog opens on the user ID (both signature components are typed): typing never lands in
  // the meaning <select>, where a letter would pick "Reviewed and approved" and drop "with corrections".
  await expect(page.getByTestId("signoff-login")).toBeFocused();
  await page.keyboard.type("r");
  await expect(page.getByTestId("signoff-meaning")).toHaveValue(/with corrections/);
  await page.getByTestId("signoff-login").fill("hema");
  // A cancelled signature keeps no typed password for the next person at this workstation.
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await page.getByTestId("signoff-cancel").click();
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-password")).toHaveValue("");
  await expect(page.getByTestId("signoff-login")).toHaveValue("");
  // Another user's ID with this user's password is refused, as a wrong password is; nothing is signed.
  await page.getByTestId("signoff-login").fill("admin");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await page.getByTestId("signoff-submit").click();
  await expect(page.getByTestId("signoff-error")).toBeVisible();
  await page.getByTestId("signoff-login").fill("hema");
  // A wrong password is refused and nothing is signed.
  await page.getByTestId("signoff-password").fill("not-my-password");
  await page.getByTestId("signoff-submit").click();
  await expect(page.getByTestId("signoff-error")).toBeVisible();
  // A wrong password is retyped, not answered by reloading the case.
  await expect(page.getByTestId("signoff-reload")).toHaveCount(0);
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await page.getByTestId("signoff-submit").click();

  await page.waitForURL(`**/cases/${caseId}/report`);
  // This tab's session has signed with both components: its next signature takes the password alone.
  expect(await page.evaluate(() => sessionStorage.getItem("rcmnet.signatureSeries"))).toBe("1");
  await expect(page.getByTestId("signature-name")).toHaveText("Dr. Hana Hematologist");
  // Whose decisions the count holds: the hematologist decided every cell.
  await expect(page.getByTestId("report-decided-by")).toHaveText(/^Cells decided by: hema \(\d+ cells?\)$/);
  await expect(page.getByTestId("signature-meaning")).not.toBeEmpty();
  await expect(page.getByTestId("signature-time")).toContainText("UTC");
  await expect(page.getByTestId("report-accession")).toHaveText(accession);
  await expect(page.getByTestId(`report-row-${target[1]}`)).toBeVisible();
  // Signed: the CAR-T share of white cells with its interval, and the intended use.
  await expect(page.getByTestId("report-cart")).toContainText(/CAR-T cells: \S+% of white cells \(95% CI/);
  await expect(page.getByTestId("report-intended-use")).toHaveText(/^For research use only\. .* Not for diagnostic use\.$/);
  // How the count was made, from the signed images; fields, so no warning about crops.
  await expect(page.getByTestId("report-method")).toContainText(/Cells detected on \d+ smear field images?; each classified by the AI/);
  await expect(page.getByTestId("report-crops-warning")).toHaveCount(0);
  // The specimen as entered at the upload, and absolute counts from its white-cell count.
  await expect(page.getByTestId("report-specimen")).toHaveText("peripheral blood, collected 2026-11-20 08:30:00 UTC");
  await expect(page.getByTestId("report-wbc")).toHaveText("4.2 ×10⁹/L");
  await expect(page.getByTestId("report-absolute")).toContainText(/Absolute CAR-T count \(morphology estimate\): [\d,]+ cells\/µL \(95% CI [\d,]+–[\d,]+ cells\/µL, from the cell count's error only\).* from a white-cell count of 4,200\/µL/);
  // Why cells were left unidentified, as the reviewer gave it, is on the signed report.
  for (const reason of givenReasons) await expect(page.getByTestId("report-unidentified-reasons")).toContainText(reason);
  // The signature names the champion that classified the cells.
  await expect(page.getByTestId("report-model-versions")).toHaveText(/^rcmnet-demo \S+$/);
  const report = testInfo.outputPath("signed-report.png");
  await page.screenshot({ path: report, fullPage: true });
  await testInfo.attach("signed-report", { path: report, contentType: "image/png" });
});

test("auditor sees every step with a valid hash chain and exports CSV", async ({ page }) => {
  await login(page, "auditor");
  await page.goto("/audit");
  await expect(page.getByTestId("chain-status")).toHaveAttribute("data-valid", "true");
  for (const action of ["case.create", "slide.upload", "cell.reclassify", "cell.confirm", "case.sign_off"]) {
    await expect(page.locator(`[data-testid="audit-row"][data-action="${action}"]`).first()).toBeVisible();
  }
  // On request, every event is re-hashed (or the walk of a few minutes ago answers again), and the
  // verdict says which events and when.
  await page.getByTestId("verify-chain").click();
  await expect(page.getByTestId("chain-status")).toHaveText(/^Hash chain verified: \d+ events intact \(events 1–\d+ re-hashed at [^,]+\)$/);
  // The case's own events, filtered by entity.
  await page.getByTestId("audit-filter-entityId").fill(caseId);
  await page.getByTestId("audit-apply").click();
  await expect(page.locator('[data-testid="audit-row"][data-action="case.sign_off"]')).toHaveCount(1);
  // The case's whole history by accession: its slides' and cells' events too.
  await page.getByTestId("audit-filter-entityId").fill("");
  await page.getByTestId("audit-filter-caseAccession").fill(accession);
  await page.getByTestId("audit-apply").click();
  for (const action of ["case.create", "slide.upload", "cell.reclassify", "cell.confirm", "case.sign_off"]) {
    await expect(page.locator(`[data-testid="audit-row"][data-action="${action}"]`).first()).toBeVisible();
  }

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-csv").click()]);
  const csv = await (await download.createReadStream()).toArray();
  const text = Buffer.concat(csv).toString("utf8");
  // The header row first; the last line says the file is complete and what it covers.
  const lines = text.trimEnd().split(/\r?\n/);
  expect(lines[0]).toContain("seq");
  expect(lines.at(-1)).toMatch(/^# rows=\d+ complete; sha256=[0-9a-f]{64}; head=#\d+ [0-9a-f]{64}; RCMNet audit export; exported .* by auditor; .*chain/);
  expect(text).toContain("case.sign_off");
  expect(text).toContain("cell.reclassify");
});

test("data scientist snapshots labels and retrains a small model", async ({ page, request }) => {
  test.setTimeout(240_000);
  await login(page, "ds");
  await page.goto("/retraining");
  // Training needs TEST cells (the split is by patient: with the few patients signed so far the
  // locked TEST part can be empty) and a TRAIN cell of every label the base
  // model knows (the cases signed so far need not have them all); otherwise the run is rightly
  // refused. Add signed-out cases, labelled round-robin, until the snapshot has both.
  const ds = await apiLogin(request, "ds");
  const champion = await apiQuery<{ championModel: { labels: string[] } }>(request, ds, "{ championModel { labels } }");
  const modelLabels = champion.data!.championModel.labels;
  type Counts = Record<string, { TRAIN?: number; VAL?: number; TEST?: number }>;
  type Snapshots = { datasetSnapshots: { nodes: { name: string; labelCounts: Counts; splitCounts: { test: number } }[] } };
  for (let round = 0; ; round++) {
    const name = `e2e-${Date.now()}`;
    await page.getByTestId("snapshot-name").fill(name);
    await page.getByTestId("create-snapshot").click();
    await expect(page.getByTestId("snapshot-row")).toHaveCount(round + 1);
    await expect(page.getByTestId("snapshot-patients").first()).toHaveText(/^\d+\/\d+\/\d+/);
    const list = await apiQuery<Snapshots>(request, ds, "{ datasetSnapshots(first: 50) { nodes { name labelCounts splitCounts { test } } } }");
    const snap = list.data!.datasetSnapshots.nodes.find((n) => n.name === name)!;
    // Training learns from the TRAIN cells (TEST stays locked for the model card): a run is
    // refused while a class of the snapshot, or of the champion, has none.
    const trainable = (l: string) => (snap.labelCounts[l]?.TRAIN ?? 0) > 0;
    if (snap.splitCounts.test > 0 && modelLabels.every(trainable) && Object.keys(snap.labelCounts).every(trainable)) break;
    expect(round, "no TEST cells or a label missing after adding 8 signed-out cases").toBeLessThan(8);
    await signedOutCase(request, fields()[2 + round]!, uniqueAccession(`E2E-LABELS${round}`), round);
  }
  // Its cells per class and part, folded under the cell counts.
  const classes = page.getByTestId("snapshot-classes").first();
  await classes.locator("summary").click();
  await expect(classes.getByTestId("snapshot-class-row").first()).toBeVisible();
  expect(await classes.getByTestId("snapshot-class-row").count()).toBeGreaterThanOrEqual(modelLabels.length);
  // Nothing relabelled since: a second snapshot would copy it, and the newest one is used again.
  const snapshotCount = await page.getByTestId("snapshot-row").count();
  await page.getByTestId("snapshot-name").fill(`e2e-again-${Date.now()}`);
  await page.getByTestId("create-snapshot").click();
  await expect(page.getByTestId("training-notice")).toContainText("No label has changed since snapshot e2e-");
  await expect(page.getByTestId("snapshot-row")).toHaveCount(snapshotCount);
  // Every cancel request the page sends from here (its body): a dismissed question must send none.
  const cancelsSent: string[] = [];
  page.on("request", (r) => {
    const body = r.postData();
    if (r.method() === "POST" && body?.includes("cancelTrainingRun")) cancelsSent.push(body);
  });

  // Cancelling throws the run's epochs away: never one click. Asked on a run that cannot end while
  // the question is open (a one-epoch run may have succeeded before Cancel is clicked, and the
  // button is only there while a run is queued or running): one queued as the API queues it (the
  // run, its trainModel job and its audit event, under the one-active-run lock), its job due only
  // tomorrow so that no worker takes it. Before the journey's own run, which it must not block:
  // cancelled at the end of the check, the confirmed path.
  const held = await queueHeldRun();
  await page.reload();
  const heldRow = page.getByTestId("run-row").first();
  await expect(heldRow).toHaveAttribute("data-status", "QUEUED");
  await expect(page.getByTestId("start-run")).toBeDisabled();
  // The question names the run and how far it is, and says it cannot be resumed; kept, the run
  // stays queued and nothing is sent.
  await heldRow.getByTestId("cancel-run").click();
  const question = page.getByTestId("ask-dialog");
  await expect(question).toContainText(`Cancel training run ${held.slice(0, 8)}? It has not started yet.`);
  await expect(question.getByTestId("ask-message")).toContainText("cannot be resumed");
  await expect(question.getByTestId("ask-cancel")).toHaveText("Keep it");
  await question.getByTestId("ask-cancel").click();
  await expect(question).toBeHidden();
  await expect(heldRow).toHaveAttribute("data-status", "QUEUED");
  expect(cancelsSent).toEqual([]);
  // Confirmed with a reason (required: Confirm is held back while it is blank), it is cancelled (a
  // run no worker took ends at once), the reason kept with its training.cancel event, and a run
  // may start again.
  const cancelReason = "e2e: queued on the wrong snapshot";
  await heldRow.getByTestId("cancel-run").click();
  await expect(question.getByTestId("ask-submit")).toHaveText("Cancel the run");
  await expect(question.getByTestId("ask-submit")).toBeDisabled();
  await question.getByTestId("ask-input").fill("   ");
  await expect(question.getByTestId("ask-submit")).toBeDisabled();
  await question.getByTestId("ask-input").fill(cancelReason);
  await question.getByTestId("ask-submit").click();
  await expect(question).toBeHidden();
  await expect(heldRow).toHaveAttribute("data-status", "CANCELLED");
  await expect(heldRow.getByTestId("cancel-run")).toHaveCount(0);
  expect(cancelsSent).toHaveLength(1);
  expect(cancelsSent[0]).toContain(cancelReason);
  expect(await cancelReasonsOf(held)).toEqual([cancelReason]);
  await expect(page.getByTestId("training-error")).toHaveCount(0);
  // A run that ends while the question is open (the page's poll moves it on behind the dialog):
  // confirmed, nothing is sent, and the page says plainly that it had already finished, not the
  // API's refusal as an error. It ends as a run whose job failed out of attempts (endHeldRun).
  const ending = await queueHeldRun();
  await page.reload();
  const endingRow = page.getByTestId("run-row").first();
  await expect(endingRow).toHaveAttribute("data-status", "QUEUED");
  await endingRow.getByTestId("cancel-run").click();
  await expect(question).toContainText(`Cancel training run ${ending.slice(0, 8)}?`);
  await endHeldRun(ending);
  await expect(endingRow).toHaveAttribute("data-status", "FAILED");
  await expect(question).toBeVisible();
  await question.getByTestId("ask-input").fill("e2e: no longer needed");
  await question.getByTestId("ask-submit").click();
  await expect(question).toBeHidden();
  await expect(page.getByTestId("training-notice")).toHaveText(`Training run ${ending.slice(0, 8)} already finished (FAILED); nothing was cancelled.`);
  expect(await cancelReasonsOf(ending)).toEqual([]);
  await expect(page.getByTestId("training-error")).toHaveCount(0);
  expect(cancelsSent).toHaveLength(1);

  // The journey's own run: one epoch, to its end, with nothing more sent to cancel it.
  await page.getByTestId("run-epochs").fill("1");
  await expect(page.getByTestId("start-run")).toBeEnabled();
  await page.getByTestId("start-run").click();
  const run = page.getByTestId("run-row").first();
  await expect(run).toHaveAttribute("data-status", /QUEUED|RUNNING|SUCCEEDED/);
  await expect(run).toHaveAttribute("data-status", /SUCCEEDED|FAILED|CANCELLED/, { timeout: 200_000 });
  // A run that ended otherwise fails here with its own error and the end of its log, so that a CI
  // log says why (the worker's own log is e2e/.logs/worker.log, printed by .ci/run on a failure).
  const ended = await apiQuery<{ trainingRuns: { nodes: { status: string; error: string | null; log: string }[] } }>(
    request,
    ds,
    "{ trainingRuns(first: 1) { nodes { status error log } } }",
  );
  const last = ended.data!.trainingRuns.nodes[0]!;
  expect(last.status, `the run ended ${last.status}: ${last.error}\n${last.log.split("\n").slice(-20).join("\n")}`).toBe("SUCCEEDED");
  await expect(run).toHaveAttribute("data-status", "SUCCEEDED");
  await expect(page.getByTestId("run-produced-model").first()).toBeVisible();
  expect(cancelsSent).toHaveLength(1);
  // The run's own log, fetched for the run shown (the list's poll carries none), to its last line.
  await expect(page.getByTestId("run-log")).toContainText("training finished on backend");
  newModel = (await page.getByTestId("run-produced-model").first().innerText()).replace(/\s*\(.*\)$/, "");

  await page.goto("/models");
  const candidate = page.locator('[data-testid="model-row"][data-status="CANDIDATE"]').first();
  await expect(candidate).toBeVisible();
  await candidate.getByTestId("propose-promotion").click();
  await page.getByTestId("ask-input").fill("Retrained on new human labels; better on the locked test set");
  await page.getByTestId("ask-submit").click();
  // A one-epoch candidate may score under the champion on some class: then the proposer is shown
  // the figures and must accept the regression explicitly.
  const proposed = page.locator('[data-testid="promotion-row"][data-state="PROPOSED"]').first();
  const regression = page.getByTestId("ask-dialog").filter({ hasText: "below the champion" });
  await expect(proposed.or(regression)).toBeVisible();
  if (await regression.isVisible()) await regression.getByTestId("ask-submit").click();
  await expect(proposed).toBeVisible();
});

test("admin approves the promotion; a new upload is predicted by the new version", async ({ page, request }) => {
  await login(page, "admin");
  await page.goto("/models");
  const proposal = page.locator('[data-testid="promotion-row"][data-state="PROPOSED"]').first();
  // The evidence the proposal recorded: both models' figures on the same locked TEST part.
  await expect(proposal.getByTestId("promotion-evidence")).toContainText(/On the TEST part of snapshot .+top-1 .+against the champion/);
  await proposal.getByTestId("approve-promotion").click();
  await expect(page.getByTestId("ask-message")).toContainText("champion");
  await expect(page.getByTestId("ask-message")).toContainText("macro-F1");
  await page.getByTestId("ask-input").fill("Validation on the locked test set reviewed");
  await page.getByTestId("ask-submit").click();
  await expect(page.locator('[data-testid="promotion-row"][data-state="APPROVED"]').first()).toBeVisible();
  const champion = page.locator('[data-testid="model-row"][data-status="CHAMPION"]');
  await expect(champion).toHaveCount(1);
  const championName = await champion.getAttribute("data-model");
  expect(championName!.replace("@", " ")).toBe(newModel);
  // The open cases' undecided cells are predicted again by the new champion (a job the approval
  // queued); the page follows it to the end.
  await expect(page.getByTestId("champion-reprediction")).toContainText("Open cases re-predicted by this model");
  await expect(page.getByTestId("champion-reprediction")).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 60_000 });
  await expect(page.getByTestId("champion-reprediction")).toContainText(/done \(this run predicted \d+ cells?/);
  // In an emergency an administrator may propose a rollback too (another one decides): the
  // earlier champion, now archived, offers it.
  await expect(page.locator('[data-testid="model-row"][data-status="ARCHIVED"]').first().getByTestId("propose-rollback")).toBeVisible();

  await login(page, "tech");
  const id = await createCase(page, uniqueAccession("E2E-NEW"));
  await page.getByTestId("file-input").setInputFiles(fields()[1]!);
  await waitForAnalysis(page);

  // Which version predicted the new cells: asked straight from the API as the admin.
  const token = await apiLogin(request, "admin");
  const r = await apiQuery<{ case: { cells: { nodes: { prediction: { modelVersionId: string } | null }[] } }; championModel: { id: string; name: string; version: string } }>(
    request,
    token,
    "query($id: ID!){ championModel { id name version } case(id: $id) { cells(first: 500) { nodes { prediction { modelVersionId } } } } }",
    { id },
  );
  expect(`${r.data!.championModel.name}@${r.data!.championModel.version}`).toBe(championName);
  const predicted = r.data!.case.cells.nodes.map((c) => c.prediction?.modelVersionId);
  expect(predicted.length).toBeGreaterThan(0);
  expect(new Set(predicted)).toEqual(new Set([r.data!.championModel.id]));
});
