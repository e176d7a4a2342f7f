// The worklist stays current past its first page: rows brought in by "Show 50 more" are polled
// like the first 50, so a new urgent case pushing the others down loses none of them.
import { apiLogin, apiQuery, expect, login, test, uniqueAccession } from "../support/fixtures";

const CREATE = `mutation($input: CreateCaseInput!) { createCase(input: $input) { id } }`;

test("rows shown by 'Show 50 more' stay on the list when a new STAT case arrives", async ({ page, request }) => {
  const tech = await apiLogin(request, "tech");
  const prefix = uniqueAccession("E2E-WL");
  for (let i = 0; i < 51; i++) {
    const r = await apiQuery(request, tech, CREATE, { input: { accession: `${prefix}-${String(i).padStart(3, "0")}` } });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  }
  await login(page, "tech");
  await page.goto("/worklist");
  await page.getByTestId("filter-accession").fill(prefix);
  const rows = page.getByTestId("case-row");
  await expect(rows).toHaveCount(50);
  // The result is announced to screen readers, and each row is named by its accession.
  await expect(page.getByRole("status").filter({ hasText: "cases shown" })).toHaveText("50+ cases shown");
  await expect(page.getByRole("rowheader", { name: `${prefix}-000` })).toBeVisible();
  await page.getByTestId("worklist-more").click();
  await expect(rows).toHaveCount(51);
  await expect(page.getByTestId("worklist-result")).toHaveText("51 cases shown");
  // A STAT case sorts first: every case is still listed, the new one on top, after the next poll.
  await apiQuery(request, tech, CREATE, { input: { accession: `${prefix}-STAT`, priority: "STAT" } });
  await expect(rows.first()).toHaveAttribute("data-accession", `${prefix}-STAT`, { timeout: 15_000 });
  await expect(rows).toHaveCount(52);
});
