// Test-data helper, straight through the API (no UI): a case of a new patient with one analysed
// field, every cell labelled by the hematologist and signed out. Used to grow the pool of human
// labels when a snapshot's locked TEST part is empty (the split is by patient, and the first
// patients go to TRAIN) or lacks a label the base model knows, and to give a test a signed case of
// its own (`comment`: the morphology comment its version 1 signs, none by default). Returns the case's id.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { apiLogin, apiQuery, apiUrl, USERS } from "./fixtures";

export async function signedOutCase(request: APIRequestContext, fieldPath: string, accession: string, labelOffset = 0, comment?: string): Promise<string> {
  const tech = await apiLogin(request, "tech");
  const created = await apiQuery<{ createCase: { id: string } }>(request, tech, "mutation($a: String!, $p: String!) { createCase(input: { accession: $a, patientRef: $p }) { id } }", { a: accession, p: `PT-${accession}` });
  const caseId = created.data!.createCase.id;
  const up = await request.post(`${apiUrl()}/uploads/slides?caseId=${caseId}&kind=FIELD`, {
    headers: { authorization: `Bearer ${tech}` },
    multipart: { files: { name: basename(fieldPath), mimeType: "image/jpeg", buffer: readFileSync(fieldPath) } },
  });
  if (!up.ok()) throw new Error(`upload failed: ${up.status()} ${await up.text()}`);
  for (let i = 0; ; i++) {
    const p = await apiQuery<{ caseAnalysisProgress: { caseStatus: string } }>(request, tech, "query($c: ID!) { caseAnalysisProgress(caseId: $c) { caseStatus } }", { c: caseId });
    if (p.data?.caseAnalysisProgress.caseStatus === "IN_REVIEW") break;
    if (i > 120) throw new Error("analysis did not finish");
    await new Promise((r) => setTimeout(r, 500));
  }
  const hema = await apiLogin(request, "hema");
  // Model classes only: unidentified, artifact and blast (a human-only class) stay out of training snapshots.
  const labels = (await apiQuery<{ reviewLabels: string[] }>(request, hema, "{ reviewLabels }")).data!.reviewLabels.filter((l) => !["unidentified", "artifact", "blast"].includes(l));
  const readCells = async () =>
    (
      await apiQuery<{ case: { cells: { nodes: { id: string; reviewCount: number; currentLabel: string | null }[] } } }>(
        request,
        hema,
        "query($c: ID!) { case(id: $c) { cells(first: 500) { nodes { id reviewCount currentLabel } } } }",
        { c: caseId },
      )
    ).data!.case.cells.nodes;
  // Successive cases start the round-robin at different labels, so a field with fewer cells
  // than labels still adds labels the earlier cases did not.
  let k = labelOffset;
  for (const cell of await readCells()) {
    const label = labels[k++ % labels.length];
    // The AI may already say this label: that is a confirmation, not a reclassification.
    const r =
      cell.currentLabel === label
        ? await apiQuery(request, hema, "mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }", {
            c: [{ cellId: cell.id, expectedReviewCount: cell.reviewCount, expectedLabel: label }],
          })
        : await apiQuery(request, hema, "mutation($i: ReclassifyCellInput!) { reclassifyCell(input: $i) { id } }", {
            i: { cellId: cell.id, expectedReviewCount: cell.reviewCount, expectedLabel: cell.currentLabel, label, reason: "test data: labelled for the training snapshot" },
          });
    if (r.errors) throw new Error(`label: ${JSON.stringify(r.errors)}`);
  }
  // A signature names the cells and decisions its signer saw: the case as it stands now.
  const seen = await readCells();
  const loaded = await apiQuery<{ case: { updatedAt: string } }>(request, hema, "query($c: ID!) { case(id: $c) { updatedAt } }", { c: caseId });
  const signed = await apiQuery(
    request,
    hema,
    "mutation($c: ID!, $p: String!, $n: Int!, $d: Int!, $u: DateTime!, $m: String) { signOffCase(input: { caseId: $c, login: \"hema\", password: $p, meaning: \"Reviewed and approved with corrections\", seenCells: $n, seenDecisions: $d, seenCaseUpdatedAt: $u, comment: $m }) { id } }",
    { c: caseId, p: USERS.hema.password, n: seen.length, d: seen.reduce((sum, c) => sum + c.reviewCount, 0), u: loaded.data!.case.updatedAt, m: comment ?? null },
  );
  if (signed.errors) throw new Error(`sign-off: ${JSON.stringify(signed.errors)}`);
  return caseId;
}
