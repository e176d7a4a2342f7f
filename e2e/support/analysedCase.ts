// Test-data helper, straight through the API (the upload page has its own tests): a new case of
// its own, one field uploaded by the technician and analysed, in review and decided by nobody.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { apiLogin, apiQuery, apiUrl, expect } from "./fixtures";

/** Returns the case id once its analysis has finished (IN_REVIEW). */
export async function analysedCase(request: APIRequestContext, fieldPath: string, accession: string): Promise<string> {
  const tech = await apiLogin(request, "tech");
  const created = await apiQuery<{ createCase: { id: string } }>(
    request,
    tech,
    "mutation($a: String!, $p: String!) { createCase(input: { accession: $a, patientRef: $p }) { id } }",
    { a: accession, p: `PT-${accession}` },
  );
  if (created.errors) throw new Error(`createCase: ${JSON.stringify(created.errors)}`);
  const caseId = created.data!.createCase.id;
  const up = await request.post(`${apiUrl()}/uploads/slides?caseId=${caseId}&kind=FIELD`, {
    headers: { authorization: `Bearer ${tech}` },
    multipart: { files: { name: basename(fieldPath), mimeType: "image/jpeg", buffer: readFileSync(fieldPath) } },
  });
  if (!up.ok()) throw new Error(`upload failed: ${up.status()} ${await up.text()}`);
  await expect
    .poll(
      async () =>
        (await apiQuery<{ caseAnalysisProgress: { caseStatus: string } }>(request, tech, "query($c: ID!) { caseAnalysisProgress(caseId: $c) { caseStatus } }", { c: caseId }))
          .data?.caseAnalysisProgress.caseStatus,
      { timeout: 120_000 },
    )
    .toBe("IN_REVIEW");
  return caseId;
}
