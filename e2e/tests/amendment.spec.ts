// Amending a signed-out case (21 CFR Part 11: a signed record is corrected by a new version,
// never overwritten): the hematologist starts an amendment with a reason, reclassifies one cell
// with a reason and signs again with the password; the report shows version 2 (signer and
// amendment reason) and keeps version 1 readable as superseded; the case is AMENDED. An
// amendment without a reason is refused, and a technician cannot amend at all. Last, on a signed
// case of its own, an amendment voids its image (another patient's) and is closed by a signed
// retraction: version 2 reports no valid result and version 1 reads as withdrawn; the patient's own
// smears then arrive and version 3, signed like any amendment, gives a result again.
import { uploadAnalysed } from "../support/analysedCase";
import { apiLogin, apiQuery, expect, fields, labelKeys, login, openReviewFromWorklist, test, uniqueAccession } from "../support/fixtures";
import { signedOutCase } from "../support/signedCase";

test.describe.configure({ mode: "serial" });

// Signed out by the e2e seed (E2E_CASES in apps/api/src/seed/demoCases.ts).
const ACCESSION = "DEMO-0005";
const AMEND_REASON = "Second look: one cell was misclassified in the signed report";
const CELL_REASON = "Granular cytoplasm and lobed nucleus on second look";
const AMEND = "mutation($c: ID!, $r: String!) { amendCase(input: { caseId: $c, reason: $r, expectedReportVersion: 1 }) { id status reportVersion } }";
const CASE = "query($c: ID!) { case(id: $c) { status reportVersion signOffs { version signerName amendmentReason supersedes { version } } } }";

type CaseState = {
  case: { status: string; reportVersion: number; signOffs: { version: number; signerName: string; amendmentReason: string | null; supersedes: { version: number } | null }[] };
};

let caseId = "";

async function openSignedCase(page: import("@playwright/test").Page) {
  caseId = await openReviewFromWorklist(page, ACCESSION, "SIGNED_OUT");
}

test("an amendment without a reason is refused with a clear message", async ({ page, request }) => {
  await login(page, "hema");
  await openSignedCase(page);
  await expect(page.getByTestId("case-status")).toHaveText("SIGNED_OUT");
  await expect(page.getByTestId("review-readonly")).toBeVisible();
  // Read-only, the keys that still work are listed; the label keys are not.
  await expect(page.getByTestId("readonly-keys")).toContainText("move");
  await expect(page.getByTestId("label-keys")).toHaveCount(0);

  const form = page.getByTestId("amend-form");
  const submit = page.getByTestId("amend-submit");
  await expect(form).toBeVisible();
  // No reason (or only spaces): the control cannot be used.
  await expect(submit).toBeDisabled();
  await page.getByTestId("amend-reason").fill("   ");
  await expect(submit).toBeDisabled();
  // Too short to be a reason: the API refuses it and the page says why.
  await page.getByTestId("amend-reason").fill("ok");
  await submit.click();
  await expect(form.getByRole("alert")).toContainText("reason is required");
  await expect(page.getByTestId("case-status")).toHaveText("SIGNED_OUT");

  // Straight at the API with the hematologist's token: an empty reason is BAD_USER_INPUT.
  const token = await apiLogin(request, "hema");
  const r = await apiQuery(request, token, AMEND, { c: caseId, r: "" });
  expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(r.errors?.[0]?.message).toContain("reason is required");
  const after = await apiQuery<CaseState>(request, token, CASE, { c: caseId });
  expect(after.data!.case.status).toBe("SIGNED_OUT");
  expect(after.data!.case.reportVersion).toBe(1);
});

test("a technician cannot amend: no control in the dashboard, refused by the API", async ({ page, request }) => {
  await login(page, "tech");
  await page.goto("/worklist");
  // The worklist opens on open work: the signed case is listed under All.
  await page.getByTestId("filter-status").selectOption({ label: "All" });
  await page.getByTestId("filter-accession").fill(ACCESSION);
  const row = page.locator(`[data-testid="case-row"][data-accession="${ACCESSION}"]`);
  await expect(row).toHaveAttribute("data-status", "SIGNED_OUT");
  await expect(row.getByTestId("open-review")).toHaveCount(0);
  // The technician may read the signed report, which has no amend control.
  await row.getByTestId("open-report").click();
  await expect(page.getByTestId("signature-name")).toBeVisible();
  await expect(page.getByTestId("signature-verified")).toBeVisible();
  await expect(page.getByTestId("amend-form")).toHaveCount(0);
  await expect(page.getByTestId("amend-submit")).toHaveCount(0);
  await expect(page.getByTestId("report-amend")).toHaveCount(0);
  // The review page, where amendments start, is not theirs.
  const res = await page.goto(`/cases/${caseId}/review`);
  expect(res?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toBeVisible();
  await expect(page.getByTestId("amend-form")).toHaveCount(0);

  const token = await apiLogin(request, "tech");
  const r = await apiQuery(request, token, AMEND, { c: caseId, r: "Technician tries to reopen the signed case" });
  expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  expect(r.data ?? null).toBeNull();
  const hema = await apiLogin(request, "hema");
  const after = await apiQuery<CaseState>(request, hema, CASE, { c: caseId });
  expect(after.data!.case.status).toBe("SIGNED_OUT");
});

test("hematologist amends a signed-out case: version 2 supersedes version 1, status AMENDED", async ({ page, request }) => {
  await login(page, "hema");
  await openSignedCase(page);
  await expect(page.getByTestId("case-status")).toHaveText("SIGNED_OUT");
  // Read-only until the amendment starts: no sign-off control.
  await expect(page.getByTestId("open-signoff")).toHaveCount(0);

  await page.getByTestId("amend-reason").fill(AMEND_REASON);
  await page.getByTestId("amend-submit").click();
  // The case is reopened for version 2 and the workspace becomes editable.
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");
  await expect(page.getByTestId("amend-form")).toHaveCount(0);
  await expect(page.getByTestId("review-readonly")).toHaveCount(0);
  await expect(page.getByTestId("review-workspace")).toContainText("report version 2");
  // Whoever finishes the amendment reads why it was opened, by whom: their signature certifies it.
  await expect(page.getByTestId("review-amendment")).toContainText(`Amendment opened by Dr. Hana Hematologist (hema) at `);
  await expect(page.getByTestId("review-amendment")).toContainText(`“${AMEND_REASON}”`);

  // Every cell keeps its signed decision; reclassify one to a label that is neither its
  // current one nor the AI's: the reason prompt opens.
  const progress = page.getByTestId("review-progress");
  const m = /(\d+)\s+of\s+(\d+)/.exec((await progress.textContent()) ?? "");
  expect(Number(m![1])).toBe(Number(m![2]));
  const tile = page.getByTestId("cell-tile").first();
  const cellId = await tile.getAttribute("data-cell-id");
  await tile.click();
  const current = page.locator(`[data-testid="cell-tile"][data-cell-id="${cellId}"]`);
  await expect(current).toHaveAttribute("data-current", "true");
  // The decision shown was made for the signed version, and says so.
  await expect(page.getByTestId("current-decision-version")).toContainText("signed in version 1");
  const currentLabel = await current.getAttribute("data-label");
  const aiLabel = await page.getByTestId("current-ai-label").getAttribute("data-label");
  const keys = await labelKeys(page);
  const target = keys.find(([, label]) => label !== currentLabel && label !== "unidentified" && label !== "artifact" && label !== aiLabel)!;
  expect(target, `a label other than ${currentLabel} and the AI's (${aiLabel})`).toBeTruthy();
  await page.keyboard.press(target[0]!);
  await expect(page.getByTestId("reason-dialog")).toBeVisible();
  await page.getByTestId("reason-input").fill(CELL_REASON);
  await page.getByTestId("reason-submit").click();
  await expect(current).toHaveAttribute("data-label", target[1]!);
  await expect(current).toHaveAttribute("data-reviewed", "true");
  // The cursor moves on (an amendment leaves no cell unreviewed: to the next in gallery order);
  // back on the changed cell, its decision is this version's, no longer "signed in version 1".
  await expect(current).not.toHaveAttribute("data-current", "true");
  await current.click();
  await expect(current).toHaveAttribute("data-current", "true");
  await expect(page.getByTestId("current-decision-version")).toHaveCount(0);

  // Meanwhile version 1 stays the report of record, and its page says an amendment is under way.
  await page.goto(`/cases/${caseId}/report`);
  await expect(page.getByTestId("report-amending")).toContainText("version 2 is being prepared");
  // The link leads back to the amendment under way, not to a second one.
  await expect(page.getByTestId("report-amend")).toHaveText("Continue the amendment…");
  await expect(page.getByTestId("report-version")).toHaveText(/^1\s*$/);
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");

  // Sign again with the password.
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-blocked")).toHaveCount(0);
  // The signer sees that this signature supersedes version 1, and what the amendment decided.
  await expect(page.getByTestId("signoff-amendment")).toContainText("makes version 2, which supersedes version 1");
  await expect(page.getByTestId("signoff-amendment")).toContainText("made 1 decision; 1 cell is now labelled otherwise than in version 1");
  // ...and the reason version 2 will carry ("Reason: …" on the report), which this signature certifies.
  await expect(page.getByTestId("signoff-amendment-reason")).toContainText(`Amendment opened by Dr. Hana Hematologist (hema)`);
  await expect(page.getByTestId("signoff-amendment-reason")).toContainText(`“${AMEND_REASON}”. Your signature certifies this reason.`);
  // An amendment signs as an amended report; with a label changed, "with corrections" (the only fit).
  await expect(page.getByTestId("signoff-meaning")).toHaveValue("Amended report: reviewed and approved with corrections");
  // Version 1 had no morphology comment: the amendment's starts empty, and this one is signed.
  await expect(page.getByTestId("signoff-comment")).toHaveValue("");
  await page.getByTestId("signoff-comment").fill("No blasts seen; CAR-T cells as counted.");
  await page.getByTestId("signoff-login").fill("hema");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await page.getByTestId("signoff-submit").click();

  // The report shows version 2, its signer and the amendment reason...
  await page.waitForURL(`**/cases/${caseId}/report`);
  await expect(page.getByTestId("report-accession")).toHaveText(ACCESSION);
  await expect(page.getByTestId("report-version")).toHaveText(/^2\s*$/);
  await expect(page.getByTestId("signature-name")).toHaveText("Dr. Hana Hematologist");
  await expect(page.getByTestId("signature-meaning")).toHaveText("Amended report: reviewed and approved with corrections");
  await expect(page.getByTestId("report-amendment")).toContainText("Amendment of version 1");
  await expect(page.getByTestId("report-amendment")).toContainText(AMEND_REASON);
  // ...what it changed against version 1: the one cell relabelled, its class one more...
  await expect(page.getByTestId("report-amendment-changes")).toContainText("Changed since then: 1 cell relabelled;");
  await expect(page.getByTestId("report-amendment-changes")).toContainText(new RegExp(`(\\d+) → (\\d+)`));
  await expect(page.getByTestId(`report-row-${target[1]}`)).toBeVisible();
  await expect(page.getByTestId("signature-verified")).toBeVisible();
  await expect(page.getByTestId("report-comment")).toContainText("No blasts seen; CAR-T cells as counted.");
  await expect(page.getByTestId("report-amending")).toHaveCount(0);
  // ...and version 1 is still there, marked superseded.
  const versions = page.getByTestId("report-versions");
  await expect(versions.getByRole("link", { name: "Version 2 (current)" })).toHaveAttribute("aria-current", "page");
  const v1 = versions.getByRole("link", { name: "Version 1 (superseded)" });
  await expect(v1).toBeVisible();
  await v1.click();
  await page.waitForURL(`**/cases/${caseId}/report?v=1`);
  await expect(page.getByTestId("report-version")).toContainText("superseded by version 2");
  await expect(v1).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("report-amendment")).toHaveCount(0);
  await expect(page.getByTestId("signature-name")).toHaveText("Dr. Hana Hematologist");
  // A superseded version offers no amendment; the current one leads back to the review page.
  await expect(page.getByTestId("report-amend")).toHaveCount(0);
  await versions.getByRole("link", { name: "Version 2 (current)" }).click();
  await page.getByTestId("report-amend").click();
  await page.waitForURL(`**/cases/${caseId}/review`);
  // An AMENDED case is signed: read-only, and open to a further amendment.
  await expect(page.getByTestId("case-status")).toHaveText("AMENDED");
  await expect(page.getByTestId("review-readonly")).toBeVisible();
  await expect(page.getByTestId("amend-form")).toBeVisible();

  // The API agrees: AMENDED, two versions, the second superseding the first with the reason.
  const token = await apiLogin(request, "hema");
  const r = await apiQuery<CaseState>(request, token, CASE, { c: caseId });
  expect(r.errors).toBeUndefined();
  expect(r.data!.case.status).toBe("AMENDED");
  expect(r.data!.case.reportVersion).toBe(2);
  const byVersion = [...r.data!.case.signOffs].sort((a, b) => a.version - b.version);
  expect(byVersion.map((s) => s.version)).toEqual([1, 2]);
  expect(byVersion[0]!.amendmentReason).toBeNull();
  expect(byVersion[1]!.amendmentReason).toBe(AMEND_REASON);
  expect(byVersion[1]!.supersedes?.version).toBe(1);
  expect(byVersion[1]!.signerName).toBe("Dr. Hana Hematologist");
});

test("an administrator's copy of the amended report says what is withheld, rather than dropping it", async ({ page }) => {
  // The API withholds patient data (and free text that may name a patient) from ADMIN: a printout
  // must not pass for the complete signed report, nor the amendment's changes for "unchanged".
  await login(page, "admin");
  await page.goto(`/cases/${caseId}/report`);
  await expect(page.getByTestId("report-version")).toHaveText(/^2\s*$/);
  await expect(page.getByTestId("report-patient")).toHaveText("withheld for your role");
  await expect(page.getByTestId("report-comment")).toContainText("Morphology comment");
  await expect(page.getByTestId("report-comment-withheld")).toHaveText("withheld for your role");
  await expect(page.getByTestId("report-comment")).not.toContainText("No blasts seen");
  await expect(page.getByTestId("report-amendment")).toContainText("Amendment of version 1");
  // Only what was signed with a value: neither version recorded a collection time, so none is "withheld".
  await expect(page.getByTestId("report-amendment-changes")).toContainText("; patient reference, morphology comment: withheld for your role");
  // Visible first: a missing row would pass the negative check.
  await expect(page.getByTestId("report-specimen")).toBeVisible();
  await expect(page.getByTestId("report-specimen")).not.toContainText("collection time");
  await expect(page.getByTestId("report-amend")).toHaveCount(0);
});

test("an amendment whose images are all another patient's is closed by a signed retraction; the right smears then give version 3 a result", async ({ page, request }) => {
  // A signed case of its own: voiding is final, and DEMO-0005's two fields serve other specs.
  // Version 1 signs a morphology comment: the retraction must not sign it again.
  const V1_COMMENT = "No blasts seen; CAR-T cells as counted.";
  const caseId = await signedOutCase(request, fields()[0]!, uniqueAccession("E2E-RETRACT"), 0, V1_COMMENT);
  const RETRACT_REASON = "The smears are another patient's: no valid result for this one";
  const RETRACTION = "Amended report: retracted, no valid result";
  await login(page, "hema");
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("case-status")).toHaveText("SIGNED_OUT");
  await page.getByTestId("amend-reason").fill(RETRACT_REASON);
  await page.getByTestId("amend-submit").click();
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");

  // Its image is voided (final): no cell is left, and the page says how to close the amendment.
  const images = page.getByTestId("case-images");
  await images.getByTestId("void-image").first().click();
  const dialog = page.getByTestId("void-dialog");
  await dialog.getByTestId("ask-input").fill("Smear of another patient");
  await dialog.getByTestId("ask-submit").click();
  await expect(dialog).toBeHidden();
  await expect(images.getByTestId("voided-image")).toHaveCount(1);
  await expect(page.getByTestId("review-no-cells")).toContainText("Every image of this case is voided: there is no valid result to report");
  await expect(page.getByTestId("open-signoff")).toHaveText("Sign a retraction…");
  await page.getByTestId("review-sign-retraction").click();

  // The only meaning that fits, no count in front of the signer, and a sentence to tick first.
  await expect(page.getByTestId("signoff-blocked")).toHaveCount(0);
  await expect(page.getByTestId("signoff-meaning")).toHaveValue(RETRACTION);
  await expect(page.getByTestId("signoff-retraction")).toContainText("makes version 2, which withdraws version 1 and reports no valid result");
  await expect(page.getByTestId("signoff-amendment-reason")).toContainText(RETRACT_REASON);
  await expect(page.getByTestId("signoff-differential")).toHaveCount(0);
  // The withdrawn version's comment is not offered for signing again: the box starts empty, as a note on the retraction.
  await expect(page.getByTestId("signoff-comment")).toHaveValue("");
  await expect(page.getByTestId("signoff-dialog")).toContainText("Note on the retraction (optional, printed on the report)");
  const id = page.getByTestId("signoff-login");
  if (await id.count()) await id.fill("hema");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await expect(page.getByTestId("signoff-submit")).toBeDisabled();
  await expect(page.getByTestId("signoff-retraction-confirm")).toHaveText("I retract version 1: it must not be used, and version 2 reports no valid result in its place.");
  await page.getByTestId("signoff-retraction-ack").check();
  await page.getByTestId("signoff-submit").click();

  // The report of record is now the retraction: unmistakable, no count shown as a result, verified.
  await page.waitForURL(`**/cases/${caseId}/report`);
  await expect(page.getByTestId("report-retracted")).toContainText("RETRACTED. Retracted: no valid result. Version 1 of this report must not be used");
  await expect(page.getByTestId("report-version")).toContainText("2");
  await expect(page.getByTestId("report-differential")).toHaveCount(0);
  await expect(page.getByTestId("report-cart")).toHaveCount(0);
  await expect(page.getByTestId("report-no-result")).toContainText("No valid result");
  await expect(page.getByTestId("report-amendment")).toContainText(`Retraction of version 1. Reason: ${RETRACT_REASON}`);
  await expect(page.getByTestId("report-voided-slides")).toContainText("1 of 1 images of this case were voided");
  await expect(page.getByTestId("signature-meaning")).toHaveText(RETRACTION);
  await expect(page.getByTestId("signature-verified")).toBeVisible();
  await expect(page.getByTestId("report-comment")).toHaveCount(0);
  // No cell was recorded: no model row, which would read as if a model had given a result.
  await expect(page.getByTestId("report-model-versions")).toHaveCount(0);
  // The version it withdrew stays readable as signed, marked withdrawn (on paper too: in the report).
  const versions = page.getByTestId("report-versions");
  await expect(versions.getByRole("link", { name: "Version 2 (current: retracted, no valid result)" })).toHaveAttribute("aria-current", "page");
  await versions.getByRole("link", { name: "Version 1 (superseded by a retraction)" }).click();
  await page.waitForURL(`**/cases/${caseId}/report?v=1`);
  await expect(page.getByTestId("report-withdrawn")).toHaveText("Withdrawn: version 2 retracted this report (no valid result). This version must not be used.");
  await expect(page.getByTestId("report-version")).toContainText("superseded by version 2 (a retraction: no valid result)");
  await expect(page.getByTestId("report-differential")).toBeVisible();
  await expect(page.getByTestId("report-comment").getByRole("heading")).toHaveText("Morphology comment");
  await expect(page.getByTestId("report-comment")).toContainText(V1_COMMENT);

  const token = await apiLogin(request, "hema");
  const r = await apiQuery<CaseState>(request, token, CASE, { c: caseId });
  expect(r.data!.case).toMatchObject({ status: "AMENDED", reportVersion: 2 });
  const v2 = r.data!.case.signOffs.find((s) => s.version === 2)!;
  expect(v2).toMatchObject({ amendmentReason: RETRACT_REASON, supersedes: { version: 1 } });

  // The patient's own smears arrive: an amendment after the retraction is signed like any other and
  // gives a result again (version 3); the retraction stays readable, superseded.
  const reopened = await apiQuery(request, token, "mutation($c: ID!) { amendCase(input: { caseId: $c, reason: \"The patient's own smears arrived\", expectedReportVersion: 2 }) { id } }", { c: caseId });
  expect(reopened.errors).toBeUndefined();
  await uploadAnalysed(request, caseId, [fields()[1]!]);
  const cells = await apiQuery<{ case: { cells: { nodes: { id: string; reviewCount: number; currentLabel: string }[] } } }>(
    request, token, "query($c: ID!) { case(id: $c) { cells(first: 500, needsReview: true) { nodes { id reviewCount currentLabel } } } }", { c: caseId });
  const pending = cells.data!.case.cells.nodes;
  expect(pending.length).toBeGreaterThan(0);
  for (const c of pending) {
    const done = await apiQuery(request, token, "mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }", {
      c: [{ cellId: c.id, expectedReviewCount: c.reviewCount, expectedLabel: c.currentLabel, ...(c.currentLabel === "unidentified" ? { reason: "seen" } : {}) }],
    });
    expect(done.errors).toBeUndefined();
  }
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");
  await page.getByTestId("open-signoff").click();
  await expect(page.getByTestId("signoff-blocked")).toHaveCount(0);
  await expect(page.getByTestId("signoff-amendment")).toContainText("makes version 3");
  const id3 = page.getByTestId("signoff-login");
  if (await id3.count()) await id3.fill("hema");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  await page.getByTestId("signoff-submit").click();
  await page.waitForURL(`**/cases/${caseId}/report`);
  await expect(page.getByTestId("report-version")).toHaveText(/^3\s*$/);
  await expect(page.getByTestId("report-retracted")).toHaveCount(0);
  await expect(page.getByTestId("report-differential")).toBeVisible();
  await expect(page.getByTestId("signature-verified")).toBeVisible();
  await expect(versions.getByRole("link", { name: "Version 3 (current)" })).toHaveAttribute("aria-current", "page");
  await expect(versions.getByRole("link", { name: "Version 2 (retraction, superseded)" })).toBeVisible();
  await expect(versions.getByRole("link", { name: "Version 1 (superseded by a retraction)" })).toBeVisible();
  const after = await apiQuery<CaseState>(request, token, CASE, { c: caseId });
  expect(after.data!.case).toMatchObject({ status: "AMENDED", reportVersion: 3 });
});

test("in an amendment the hematologist edits the case details (not the technician), and a signature whose answer is lost still leads to the signed report", async ({ page, request }) => {
  // The connection drops after the API committed the signature: the page must not say "not
  // completed" and invite a second signing; it reads the case back and shows the signed version.
  const caseId = await signedOutCase(request, fields()[0]!, uniqueAccession("E2E-LOST"));
  const hema = await apiLogin(request, "hema");
  const opened = await apiQuery(request, hema, AMEND, { c: caseId, r: "Second look at the differential" });
  expect(opened.errors).toBeUndefined();
  // Being amended, the case's details are the hematologist's to change (the next version signs
  // them): the technician's upload page says so instead of offering the editor.
  await login(page, "tech");
  await page.goto(`/upload?caseId=${caseId}`);
  await expect(page.getByTestId("case-details-locked")).toHaveText(
    "Being amended (signed as version 1): only a hematologist may change its details, which the next version signs (on the review page).",
  );
  await expect(page.getByTestId("edit-case-details")).toHaveCount(0);
  // Nor does it offer "Void image", which the API refuses a technician in an amendment (D12).
  await expect(page.getByTestId("analysis-panel").getByTestId("analysis-slide")).not.toHaveCount(0);
  await expect(page.getByTestId("void-image")).toHaveCount(0);
  await expect(page.getByTestId("void-locked")).toHaveText(
    "Being amended (signed as version 1): only a hematologist may void one of its images, whose cells an earlier version signed (on the review page).",
  );
  await login(page, "hema");
  await page.goto(`/cases/${caseId}/review`);
  await expect(page.getByTestId("case-status")).toHaveText("IN_REVIEW");
  await page.getByTestId("edit-case-details").click();
  await page.getByTestId("edit-reason-input").fill("WBC from the analyser printout");
  await page.getByTestId("edit-wbc-input").fill("6.8");
  await page.getByTestId("save-case-details").click();
  await expect(page.getByTestId("case-details-wbc")).toHaveText("WBC: 6.8 ×10⁹/L");
  await page.getByTestId("open-signoff").click();
  const id = page.getByTestId("signoff-login");
  if (await id.count()) await id.fill("hema");
  await page.getByTestId("signoff-password").fill("hema-demo-pass");
  // The sign-off reaches the API (and commits); its answer never reaches the browser.
  let lost = 0;
  await page.route("**/api/graphql", async (route) => {
    if (!(route.request().postData() ?? "").includes("mutation SignOff")) return route.continue();
    await route.fetch();
    lost++;
    await route.abort("connectionreset");
  });
  await page.getByTestId("signoff-submit").click();
  await page.waitForURL(`**/cases/${caseId}/report`);
  expect(lost).toBe(1);
  await expect(page.getByTestId("report-version")).toHaveText(/^2\s*$/);
  await expect(page.getByTestId("signature-verified")).toBeVisible();
  const r = await apiQuery<CaseState>(request, hema, CASE, { c: caseId });
  expect(r.data!.case).toMatchObject({ status: "AMENDED", reportVersion: 2 });
  expect(r.data!.case.signOffs).toHaveLength(2);
  await expect(page.getByTestId("report-wbc")).toHaveText("6.8 ×10⁹/L");
});
