import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";
import { confirmAsSeen, databaseFingerprint, seedReviewableCase } from "../../testing/fixtures.ts";

let api: TestApi;
let hema: string;
let hemaLogin: string;
let techId: string;
beforeAll(async () => {
  api = await createTestApi();
  const h = await api.createUser("HEMATOLOGIST");
  hemaLogin = h.user.login;
  hema = await api.login(h.user.login, h.password);
  techId = (await api.createUser("TECHNICIAN")).user.id;
});
afterAll(() => api?.close());

const SIGN = `mutation($input: SignOffCaseInput!) { signOffCase(input: $input) { version } }`;
const AMEND = `mutation($input: AmendCaseInput!) { amendCase(input: $input) { status reportVersion } }`;
const CONFIRM = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`;

/** Signs the case as its review page shows it now (every cell decided). */
async function sign(caseId: string, meaning: string) {
  const cells = await api.prisma.cell.findMany({ where: { slide: { caseId } }, select: { reviewCount: true } });
  const { updatedAt } = await api.prisma.case.findUniqueOrThrow({ where: { id: caseId } });
  const seen = { seenCells: cells.length, seenDecisions: cells.reduce((n, c) => n + c.reviewCount, 0), seenCaseUpdatedAt: updatedAt.toISOString() };
  return api.gqlOk(hema, SIGN, { input: { caseId, login: hemaLogin, password: TEST_PASSWORD, meaning, ...seen } });
}

describe("amendCase", () => {
  it("refuses an amendment written on a page showing an older signed version, changing nothing", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds, { reason: "seen" }) });
    await sign(kase.id, "Reviewed and approved");
    // Dr A's page shows version 1. Meanwhile Dr B amends and signs version 2.
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "WBC count mistyped", expectedReportVersion: 1 } });
    await sign(kase.id, "Amended report: reviewed and approved");
    // Dr A's reason was written about version 1: it must not reopen version 2, which A has not read.
    const before = await databaseFingerprint(api.prisma);
    const stale = await api.gql(hema, AMEND, { input: { caseId: kase.id, reason: "cell 1 is a blast", expectedReportVersion: 1 } });
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(stale.errors?.[0]?.message).toMatch(/report is now version 2, not version 1 as shown: reload/);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ reportVersion: 2, expectedReportVersion: 1 });
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // Read again, the current version is amended.
    const fresh = await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "cell 1 is a blast", expectedReportVersion: 2 } });
    expect(fresh.amendCase).toEqual({ status: "IN_REVIEW", reportVersion: 2 });
    // A version that does not exist is no version shown.
    const bad = await api.gql(hema, AMEND, { input: { caseId: kase.id, reason: "again", expectedReportVersion: 0 } });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("refuses an amendment that does not say which version its reason was written about, changing nothing", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds, { reason: "seen" }) });
    await sign(kase.id, "Reviewed and approved");
    const before = await databaseFingerprint(api.prisma);
    for (const input of [{ caseId: kase.id, reason: "WBC count mistyped" }, { caseId: kase.id, reason: "WBC count mistyped", expectedReportVersion: null }]) {
      const r = await api.gql(hema, AMEND, { input });
      expect(r.errors?.[0]?.message, JSON.stringify(input)).toMatch(/expectedReportVersion/);
      expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "SIGNED_OUT", reportVersion: 1 });
  });

});
