// Test-data helper, straight through the API (the upload page has its own tests): a new case of
// its own, smear fields uploaded by the technician and analysed, in review and decided by nobody.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { apiLogin, apiQuery, apiUrl, expect } from "./fixtures";

/**
 * Returns the case id once every field's analysis has finished (IN_REVIEW), and the file name
 * each slide was uploaded as.
 */
export async function analysedCase(
  request: APIRequestContext,
  fieldPaths: readonly string[],
  accession: string,
): Promise<{ caseId: string; fileNames: Map<string, string> }> {
  const tech = await apiLogin(request, "tech");
  const created = await apiQuery<{ createCase: { id: string } }>(
    request,
    tech,
    "mutation($a: String!, $p: String!) { createCase(input: { accession: $a, patientRef: $p }) { id } }",
    { a: accession, p: `PT-${accession}` },
  );
  if (created.errors) throw new Error(`createCase: ${JSON.stringify(created.errors)}`);
  const caseId = created.data!.createCase.id;
  return { caseId, fileNames: await uploadAnalysed(request, caseId, fieldPaths) };
}

/**
 * Uploads smear fields into a case as the technician (a new case, or one being amended) and
 * returns once their analysis has finished and the case is back in review (IN_REVIEW): the file
 * name each new slide was uploaded as, by slide id.
 */
export async function uploadAnalysed(request: APIRequestContext, caseId: string, fieldPaths: readonly string[]): Promise<Map<string, string>> {
  const tech = await apiLogin(request, "tech");
  const fileNames = new Map<string, string>();
  for (const path of fieldPaths) {
    const up = await request.post(`${apiUrl()}/uploads/slides?caseId=${caseId}&kind=FIELD`, {
      headers: { authorization: `Bearer ${tech}` },
      multipart: { files: { name: basename(path), mimeType: "image/jpeg", buffer: readFileSync(path) } },
    });
    if (!up.ok()) throw new Error(`upload failed: ${up.status()} ${await up.text()}`);
    fileNames.set(((await up.json()) as { slides: { id: string }[] }).slides[0]!.id, basename(path));
  }
  await expect
    .poll(
      async () =>
        (await apiQuery<{ caseAnalysisProgress: { caseStatus: string } }>(request, tech, "query($c: ID!) { caseAnalysisProgress(caseId: $c) { caseStatus } }", { c: caseId }))
          .data?.caseAnalysisProgress.caseStatus,
      { timeout: 120_000 },
    )
    .toBe("IN_REVIEW");
  return fileNames;
}
