import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";
import { confirmAsSeen, databaseFingerprint, seedReviewableCase } from "../../testing/fixtures.ts";
import { sha256OfContent } from "./canonicalJson.ts";
import { verifySignOffRow } from "./verifySignOff.ts";
import { failSlide } from "../../jobs/handlers/analyzeSlide.ts";

let api: TestApi;
let hema: string;
let hemaName: string;
let hemaLogin: string;
let techId: string;
beforeAll(async () => {
  api = await createTestApi();
  const h = await api.createUser("HEMATOLOGIST", { displayName: "Dr. Hana Hematologist" });
  hemaName = h.user.displayName;
  hemaLogin = h.user.login;
  hema = await api.login(h.user.login, h.password);
  techId = (await api.createUser("TECHNICIAN")).user.id;
});
afterAll(() => api?.close());

const SIGN = `mutation($input: SignOffCaseInput!) { signOffCase(input: $input) { id version signerName meaning signedAt contentSha256 content amendmentReason supersedes { id version } } }`;
const AMEND = `mutation($input: AmendCaseInput!) { amendCase(input: $input) { id status reportVersion } }`;
const CONFIRM = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`;
const RECLASSIFY = `mutation($input: ReclassifyCellInput!) { reclassifyCell(input: $input) { id } }`;
const MEANING = "Reviewed and approved";
const CORRECTED = "Reviewed and approved with corrections";
const AMENDED_CORRECTED = "Amended report: reviewed and approved with corrections";

/** What a freshly loaded review page shows, and a signature must name: the cells and decisions now (a voided image's are out). */
async function seen(caseId: string) {
  const cells = await api.prisma.cell.findMany({ where: { slide: { caseId, analysisStatus: { not: "FAILED" }, voidedAt: null } }, select: { reviewCount: true } });
  const { updatedAt } = await api.prisma.case.findUniqueOrThrow({ where: { id: caseId } });
  return { seenCells: cells.length, seenDecisions: cells.reduce((n, c) => n + c.reviewCount, 0), seenCaseUpdatedAt: updatedAt.toISOString() };
}

/**
 * One cell at a time: a bulk confirm refuses the fixture's abstained cells, whose confirmation
 * (left unidentified) needs a reason; the others take one too.
 */
async function confirmAll(cellIds: string[]) {
  for (const cellId of cellIds) await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellId], { reason: "seen" }) });
}

describe("sign-off", () => {
  it("leaves out the cells a failed analysis stored before failing: not listed, counted, decided or signed", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    const failed = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: "f".repeat(64), mimeType: "image/png", byteSize: 10, width: 100, height: 100, analysisStatus: "FAILED", analysisError: "worker died", uploadedById: techId },
    });
    const [orphan] = await Promise.all([0, 1].map((i) => api.prisma.cell.create({ data: { slideId: failed.id, x: i * 10, y: 0, width: 10, height: 10, cropSha256: "e".repeat(64) } })));
    const view = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { cellCount cells(first: 100) { totalCount nodes { id } } } }`, { id: kase.id });
    expect(view.case.cellCount).toBe(3);
    expect(view.case.cells.totalCount).toBe(3);
    expect(view.case.cells.nodes.map((c: { id: string }) => c.id).sort()).toEqual([...cellIds].sort());
    const before = await databaseFingerprint(api.prisma);
    const decided = await api.gql(hema, CONFIRM, { cells: [{ cellId: orphan!.id, expectedReviewCount: 0, expectedLabel: "car_t" }] });
    expect(decided.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(decided.errors?.[0]?.message).toMatch(/image could not be analysed/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    await confirmAll(cellIds);
    const signed = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } })).signOffCase;
    expect(signed.content.cells).toHaveLength(3);
    expect(signed.content.slides.find((s: { id: string }) => s.id === failed.id)).toMatchObject({ analysisStatus: "FAILED" });
  });

  it("refuses decisions on cells whose image is still being analysed (no AI call yet), writing nothing", async () => {
    const { slideId, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await api.prisma.slide.update({ where: { id: slideId }, data: { analysisStatus: "RUNNING" } });
    const before = await databaseFingerprint(api.prisma);
    const confirm = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
    const reclassify = await api.gql(hema, RECLASSIFY, { input: { cellId: cellIds[1], expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "artifact" } });
    for (const r of [confirm, reclassify]) {
      expect(r.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect(r.errors?.[0]?.message).toMatch(/still being analysed/);
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("re-reads a decision's cells under the case lock: a slide failing meanwhile refuses it", async () => {
    // Decisions need a DONE slide and no path fails a DONE one today; failing it here anyway pins
    // that whatever moves a slide under the case lock is seen by a decision waiting for it.
    const { kase, slideId, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    // failSlide holds the case FOR UPDATE until its transaction ends: keep it open.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let failed!: () => void;
    const slideFailed = new Promise<void>((resolve) => (failed = resolve));
    const failing = api.prisma.$transaction(
      async (tx) => {
        expect(await failSlide(tx, slideId, "worker died", ["DONE"])).toBe(true);
        failed();
        await gate;
      },
      { timeout: 30_000 },
    );
    await slideFailed;
    // The decision still sees the slide DONE (not yet committed) and queues for the case lock.
    const decision = api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
    for (let waited = 0; ; waited += 50) {
      const [row] = await api.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())`;
      if (row!.n > 0) break;
      if (waited > 10_000) throw new Error("the decision never queued for the case lock");
      await new Promise((r) => setTimeout(r, 50));
    }
    release();
    await failing;
    const answer = await decision;
    expect(answer.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(answer.errors?.[0]?.message).toMatch(/image could not be analysed/);
    expect(await api.prisma.review.count({ where: { cellId: { in: cellIds } } })).toBe(0);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
  });

  it("is refused until every cell has a human decision, and with a wrong password or role; nothing changes", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    await confirmAll(cellIds.slice(0, 9));
    const before = await databaseFingerprint(api.prisma);
    const unreviewed = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(unreviewed.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(unreviewed.errors?.[0]?.message).toMatch(/1 of 10 cells have no human decision/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    await confirmAll(cellIds.slice(9));
    const afterReview = await databaseFingerprint(api.prisma);
    const wrongPassword = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: "not my password", meaning: MEANING, ...(await seen(kase.id)) } });
    expect(wrongPassword.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(0);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
    // The failed signature is itself audited (and counts towards the lockout), nothing else changed.
    const failures = await api.prisma.auditEvent.findMany({ where: { action: "auth.signature_failed" } });
    expect(failures).toHaveLength(1);
    // The failed attempt names the case it was for.
    expect(failures[0]!.after).toEqual({ failedLogins: 1, caseId: kase.id });
    const after = await databaseFingerprint(api.prisma);
    expect({ ...after, audit_event: "", user: "" }).toEqual({ ...afterReview, audit_event: "", user: "" });

    const tech = await api.loginAs("TECHNICIAN");
    const wrongRole = await api.gql(tech, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(wrongRole.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const missing = await api.gql(hema, SIGN, { input: { caseId: "00000000-0000-4000-8000-000000000000", login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, seenCells: 0, seenDecisions: 0, seenCaseUpdatedAt: new Date().toISOString() } });
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    // Refused before the password is checked: a wrong one for a case there is not counts nothing
    // and writes no event naming it.
    const events = await api.prisma.auditEvent.count();
    const missingWrong = await api.gql(hema, SIGN, { input: { caseId: "00000000-0000-4000-8000-000000000001", login: hemaLogin, password: "not my password", meaning: MEANING, seenCells: 0, seenDecisions: 0, seenCaseUpdatedAt: new Date().toISOString() } });
    expect(missingWrong.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(await api.prisma.auditEvent.count()).toBe(events);
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(0);
  });

  it("takes both signature components: another user's ID with the right password signs nothing, counts as a failed signature; a meaning off the list is refused", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const before = await databaseFingerprint(api.prisma);
    const failedBefore = await api.prisma.auditEvent.count({ where: { action: "auth.signature_failed" } });
    const otherId = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: "someone-else", password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(otherId.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const failure = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "auth.signature_failed" }, orderBy: { seq: "desc" } });
    expect(failure.after).toMatchObject({ caseId: kase.id, userIdMismatch: true });
    expect(await api.prisma.auditEvent.count({ where: { action: "auth.signature_failed" } })).toBe(failedBefore + 1);
    const offList = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: "ok!", ...(await seen(kase.id)) } });
    expect(offList.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(offList.errors?.[0]?.message).toMatch(/meaning must be one of: Reviewed and approved; Reviewed and approved with corrections/);
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(0);
    // Only the failed attempt's count and its audit event changed.
    expect({ ...(await databaseFingerprint(api.prisma)), audit_event: "", user: "" }).toEqual({ ...before, audit_event: "", user: "" });
    // Reset the failed-attempt count for the tests after this one.
    const signed = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin.toUpperCase(), password: TEST_PASSWORD, meaning: "Reviewed and approved with corrections", ...(await seen(kase.id)) } });
    expect(signed.signOffCase.meaning).toBe("Reviewed and approved with corrections");
  });

  it("asks for the user ID at the first signature of a session only; later ones in it take the password alone (11.200(a)(1))", async () => {
    const h = await api.createUser("HEMATOLOGIST");
    const token = await api.login(h.user.login, h.password);
    // The same user at another workstation, signed in before the series below began.
    const other = await api.login(h.user.login, h.password);
    const cases = [];
    for (let i = 0; i < 2; i++) {
      const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
      await api.gqlOk(token, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!], { reason: "seen" }) });
      cases.push(kase);
    }
    const before = await databaseFingerprint(api.prisma);
    const first = await api.gql(token, SIGN, { input: { caseId: cases[0]!.id, password: h.password, meaning: MEANING, ...(await seen(cases[0]!.id)) } });
    expect(first.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", needsUserId: true });
    expect(first.errors?.[0]?.message).toMatch(/first signature of a session takes both/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    await api.gqlOk(token, SIGN, { input: { caseId: cases[0]!.id, login: h.user.login, password: h.password, meaning: MEANING, ...(await seen(cases[0]!.id)) } });
    // The series goes on: the password alone (wrong, it is still a failed signature).
    const wrong = await api.gql(token, SIGN, { input: { caseId: cases[1]!.id, password: "not my password", meaning: MEANING, ...(await seen(cases[1]!.id)) } });
    expect(wrong.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // null, as GraphQL clients send a nullable argument left out, is the same as absent.
    const second = await api.gqlOk(token, SIGN, { input: { caseId: cases[1]!.id, login: null, password: h.password, meaning: MEANING, ...(await seen(cases[1]!.id)) } });
    expect(second.signOffCase.version).toBe(1);
    // Another session of the same user, open meanwhile, has no series: its first signature takes both.
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    await api.gqlOk(other, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!], { reason: "seen" }) });
    const fresh = await api.gql(other, SIGN, { input: { caseId: kase.id, password: h.password, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(fresh.errors?.[0]?.extensions?.needsUserId).toBe(true);
  });

  it("records in each sign-off's audit event which components signed and when the series began, evidence that outlives the session row (11.200)", async () => {
    const h = await api.createUser("HEMATOLOGIST");
    const token = await api.login(h.user.login, h.password);
    const cases = [];
    for (let i = 0; i < 2; i++) {
      const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
      await api.gqlOk(token, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!], { reason: "seen" }) });
      cases.push(kase);
    }
    const first = await api.gqlOk(token, SIGN, { input: { caseId: cases[0]!.id, login: h.user.login, password: h.password, meaning: MEANING, ...(await seen(cases[0]!.id)) } });
    const second = await api.gqlOk(token, SIGN, { input: { caseId: cases[1]!.id, password: h.password, meaning: MEANING, ...(await seen(cases[1]!.id)) } });
    // The session row goes (ended and expired sessions are deleted at a later sign-in): the events keep the evidence.
    await api.prisma.apiSession.deleteMany({ where: { userId: h.user.id } });
    const signature = async (caseId: string) =>
      ((await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.sign_off", entityId: caseId } })).after as { signature?: unknown }).signature;
    const seriesStartedAt = first.signOffCase.signedAt;
    expect(await signature(cases[0]!.id)).toEqual({ components: "id+password", seriesStartedAt });
    expect(await signature(cases[1]!.id)).toEqual({ components: "password", seriesStartedAt });
    expect(Date.parse(second.signOffCase.signedAt)).toBeGreaterThanOrEqual(Date.parse(seriesStartedAt));
  });

  it("refuses a meaning that misstates the report: plain approval over AI labels the reviewer changed; nothing stored", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 1, expectedLabel: "car_t", label: "artifact", reason: "debris" } });
    const before = await databaseFingerprint(api.prisma);
    const plain = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(plain.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(plain.errors?.[0]?.message).toMatch(/does not fit a first report with 1 AI label changed by the reviewer: sign as "Reviewed and approved with corrections"; nothing was signed/);
    const asAmendment = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: AMENDED_CORRECTED, ...(await seen(kase.id)) } });
    expect(asAmendment.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect({ ...(await databaseFingerprint(api.prisma)), user: "" }).toEqual({ ...before, user: "" });
    expect((await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...(await seen(kase.id)) } })).signOffCase.meaning).toBe(CORRECTED);
  });

  it("refuses a signature with a password an administrator set until its owner changes it", async () => {
    const admin = await api.loginAs("ADMIN");
    const LOGIN = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token mustChangePassword } }`;
    const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token mustChangePassword } }`;
    const RESET = `mutation($id: ID!) { resetUserPassword(id: $id, newPassword: "admin knows this one", reason: "forgotten") { id } }`;
    const temporary = "set by the admin";
    const created = (await api.gqlOk(admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id login } }`, {
      input: { login: "newhema", displayName: "Dr. New", role: "HEMATOLOGIST", password: temporary, reason: "new hematologist" },
    })).createUser;
    const first = (await api.gqlOk(null, LOGIN, { l: "newhema", p: temporary })).login;
    expect(first.mustChangePassword).toBe(true);

    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    await confirmAll(cellIds);
    const before = await databaseFingerprint(api.prisma);
    const refused = await api.gql(first.token, SIGN, { input: { caseId: kase.id, login: "newhema", password: temporary, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toMatch(/Choose a new password \(Account\) before anything else/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    const changed = (await api.gqlOk(first.token, CHANGE, { c: temporary, n: "only I know this one" })).changeMyPassword;
    expect(changed.mustChangePassword).toBe(false);
    const signed = await api.gqlOk(changed.token, SIGN, { input: { caseId: kase.id, login: "newhema", password: "only I know this one", meaning: MEANING, ...(await seen(kase.id)) } });
    expect(signed.signOffCase.version).toBe(1);

    // A reset makes the password temporary again.
    await api.gqlOk(admin, RESET, { id: created.id });
    expect((await api.gqlOk(null, LOGIN, { l: "newhema", p: "admin knows this one" })).login.mustChangePassword).toBe(true);
  });

  it("refuses to sign a label cache that its review record does not hold (changed outside the platform)", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    await confirmAll(cellIds);
    // A direct write to the workflow column, no review behind it.
    await api.prisma.$executeRaw`UPDATE cell SET "currentLabel" = 'artifact' WHERE id = ${cellIds[1]}::uuid`;
    const before = await databaseFingerprint(api.prisma);
    const r = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(r.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(new RegExp(`show a label their review record does not hold \\(first: cell ${cellIds[1]}\\); nothing was signed`));
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("takes the signature's time from the database clock, not the API host's", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const input = { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) };
    // A host whose clock is years off must not be able to date a signature.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2001-02-03T04:05:06Z") });
    let signedAt: string;
    try {
      signedAt = (await api.gqlOk(hema, SIGN, { input })).signOffCase.signedAt;
    } finally {
      vi.useRealTimers();
    }
    const [{ now }] = await api.prisma.$queryRaw<[{ now: Date }]>`SELECT clock_timestamp() AS now`;
    expect(Math.abs(now.getTime() - Date.parse(signedAt))).toBeLessThan(60_000);
  });

  it("records name, time, meaning and the hash of the signed content; an amendment creates version 2", async () => {
    const { kase, cellIds, model } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 12 });
    await api.prisma.case.update({ where: { id: kase.id }, data: { patientRef: "MRN-SIGNED-1", specimen: "peripheral blood", wbcCount: 5 } });
    await confirmAll(cellIds);
    const r = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    const v1 = r.signOffCase;
    expect(v1).toMatchObject({ version: 1, signerName: hemaName, meaning: MEANING, supersedes: null });
    expect(sha256OfContent(v1.content)).toBe(v1.contentSha256);
    expect(v1.content.cells).toHaveLength(12);
    expect(v1.content.signedAt).toBe(v1.signedAt);
    expect(v1.content.auditAnchor.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.content.differential.total).toBe(12);
    // Each model used is named by name and version beside the id that pins its weights.
    expect(v1.content.schema).toBe("rcmnet.signed-report/10");
    expect(v1.content.differential.cartAssessed).toBe(true);
    // Each cell's last decision is signed with its reason (why left unidentified, why overridden).
    expect(v1.content.cells[0]).toMatchObject({ action: "CONFIRM", reason: "seen", bulk: null });
    // The differential as a lab reports it, and what the result may be used for.
    expect(v1.content.differential).toMatchObject({ belowMinimum: true, cartPercentCi95: expect.any(Array) });
    expect(v1.content.intendedUse).toMatch(/^For research use only\. .* Not for diagnostic use\.$/);
    // The specimen as signed, and absolute counts from its white-cell count (5 ×10⁹/L = 5,000/µL).
    expect(v1.content.case).toMatchObject({ specimen: "peripheral blood", wbcCount: 5, collectedAt: null });
    const d = v1.content.differential;
    expect(v1.content.absoluteCounts).toMatchObject({
      wbcPerUl: 5000,
      cartPerUl: Math.round((5000 * d.cartCount) / d.counted),
      lymphocytesPerUl: Math.round((5000 * (d.cartCount + (d.rows.find((r: { label: string }) => r.label === "lymphocyte")?.count ?? 0))) / d.counted),
    });
    expect(v1.content.absoluteCounts.cartPerUl).toBeGreaterThan(0);
    // The patient is signed too: a later edit of the case's patientRef cannot move the report.
    expect(v1.content.case.patientRef).toBe("MRN-SIGNED-1");
    // Shown to roles that may see patient references only; the stored content and hash unchanged.
    // Nor the hashes over it: with the rest of the content, one would let a reader test
    // candidate references until one hashes right.
    const READ = `query($id: ID!) { signOff(id: $id) { content contentSha256 } verifySignOff(id: $id) { ok storedSha256 computedSha256 auditedSha256 } }`;
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) {
      const seen = await api.gqlOk(await api.loginAs(role), READ, { id: v1.id });
      expect(seen.signOff.content.case.patientRef, role).toBeNull();
      expect(seen.signOff.contentSha256, role).toBeNull();
      expect(seen.signOff.content.auditAnchor, role).toEqual({ seq: v1.content.auditAnchor.seq, hash: null });
      expect(seen.verifySignOff, role).toEqual({ ok: true, storedSha256: null, computedSha256: null, auditedSha256: null });
      const candidate = { ...v1.content, case: { ...v1.content.case, patientRef: "MRN-SIGNED-1" } };
      expect(JSON.stringify(seen)).not.toContain(sha256OfContent(candidate));
    }
    const asAuditor = await api.gqlOk(await api.loginAs("AUDITOR"), READ, { id: v1.id });
    expect(asAuditor.signOff.contentSha256).toBe(v1.contentSha256);
    expect(asAuditor.verifySignOff.storedSha256).toBe(v1.contentSha256);
    expect((await api.prisma.signOff.findUniqueOrThrow({ where: { id: v1.id } })).contentSha256).toBe(v1.contentSha256);
    expect(v1.content.modelVersionIds).toEqual([model.id]);
    expect(v1.content.models).toEqual([{ id: model.id, name: model.name, version: model.version }]);
    expect(v1.content.cells[0].ai.modelVersionId).toBe(model.id);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } }))).toMatchObject({ status: "SIGNED_OUT", reportVersion: 1 });

    // Signed: frozen. Review and a second signature are refused.
    const late = await api.gql(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 1, expectedLabel: "car_t", label: "artifact", reason: "x" } });
    expect(late.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const again = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");

    // Amendment needs a reason, reopens the case, and the next signature is version 2.
    const noReason = await api.gql(hema, AMEND, { input: { caseId: kase.id, reason: "", expectedReportVersion: 1 } });
    expect(noReason.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const amended = await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Cell 1 is debris on second look", expectedReportVersion: 1 } });
    expect(amended.amendCase).toMatchObject({ status: "IN_REVIEW", reportVersion: 1 });
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 1, expectedLabel: "car_t", label: "artifact", reason: "debris" } });
    // The smear turns out to be of marrow: its count is not per µL of blood, so no absolute counts.
    await api.prisma.case.update({ where: { id: kase.id }, data: { specimen: "bone marrow aspirate" } });
    const r2 = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: AMENDED_CORRECTED, ...(await seen(kase.id)) } });
    expect(r2.signOffCase).toMatchObject({ version: 2, amendmentReason: "Cell 1 is debris on second look", supersedes: { id: v1.id, version: 1 } });
    expect(r2.signOffCase.content.differential.artifacts).toBe(1);
    expect(r2.signOffCase.content.case).toMatchObject({ specimen: "bone marrow aspirate", wbcCount: 5 });
    expect(r2.signOffCase.content.absoluteCounts).toBeNull();
    expect(r2.signOffCase.content.cells.find((c: { id: string }) => c.id === cellIds[0])).toMatchObject({ action: "RECLASSIFY", label: "artifact", reason: "debris" });
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } }))).toMatchObject({ status: "AMENDED", reportVersion: 2 });

    // Version 1 stays readable exactly as signed.
    const read = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { signOffs { version contentSha256 } currentSignOff { version } } signOff(id: "${v1.id}") { contentSha256 content } verifySignOff(id: "${v1.id}") { ok } }`, { id: kase.id });
    expect(read.case.signOffs).toEqual([{ version: 1, contentSha256: v1.contentSha256 }, { version: 2, contentSha256: r2.signOffCase.contentSha256 }]);
    expect(read.case.currentSignOff.version).toBe(2);
    expect(read.signOff.content.differential.artifacts).toBe(0);
    expect(read.verifySignOff.ok).toBe(true);
    // The amendment's columns (supersedes, reason) agree with its content too.
    const v2 = await api.gqlOk(hema, `query($id: ID!) { verifySignOff(id: $id) { ok mismatches } }`, { id: r2.signOffCase.id });
    expect(v2.verifySignOff).toEqual({ ok: true, mismatches: [] });
    // The hashes of version 1 repeated elsewhere stay withheld from roles that may not see the
    // patient: in the amendment's `supersedes`, and in the sign-off's audit event.
    const admin = await api.loginAs("ADMIN");
    const v2AsAdmin = await api.gqlOk(admin, `query($id: ID!) { signOff(id: $id) { content } }`, { id: r2.signOffCase.id });
    expect(r2.signOffCase.content.supersedes.contentSha256).toBe(v1.contentSha256);
    expect(v2AsAdmin.signOff.content.supersedes).toEqual({ id: v1.id, version: 1, contentSha256: null });
    const TRAIL = `query($f: AuditFilter) { auditTrail(filter: $f, first: 10) { nodes { after } } }`;
    const signEvents = await api.gqlOk(admin, TRAIL, { f: { entityType: "Case", entityId: kase.id, action: "case.sign_off" } });
    expect(signEvents.auditTrail.nodes.length).toBe(2);
    expect(JSON.stringify(signEvents)).not.toContain(v1.contentSha256);
    expect(JSON.stringify(signEvents)).not.toContain(r2.signOffCase.contentSha256);
  });

  it("keeps an override's reason in the signed cell after a later plain confirmation of it", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "car_t", label: "artifact", reason: "stain debris" } });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
    await confirmAll([cellIds[1]!]);
    const r = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...(await seen(kase.id)) } });
    expect(r.signOffCase.content.cells.find((c: { id: string }) => c.id === cellIds[0])).toMatchObject({ action: "CONFIRM", label: "artifact", reason: "stain debris" });
  });

  it("signs which cells were confirmed with a whole gallery group, and how large it was", async () => {
    // The fixture's nine confident calls, but CAR-T calls are confirmed one by one: the group is the other seven.
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    const labels = new Map((await api.prisma.cell.findMany({ where: { id: { in: cellIds } } })).map((c) => [c.id, c.currentLabel]));
    const group = cellIds.slice(0, 9).filter((id) => labels.get(id) !== "car_t");
    const alone = cellIds.filter((id) => !group.includes(id));
    expect(group).toHaveLength(7);
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, group) });
    await confirmAll(alone);
    const r = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    const bulk = new Map(r.signOffCase.content.cells.map((c: { id: string; bulk: number | null }) => [c.id, c.bulk]));
    expect(group.map((id) => bulk.get(id))).toEqual(Array(7).fill(7));
    for (const id of alone) expect(bulk.get(id)).toBeNull();
  });

  it("signs CAR-T as not assessed (null, not 0%) when the model that classified the cells has no CAR-T class", async () => {
    const pbc = await api.prisma.modelVersion.create({
      data: {
        name: "pbc-8-class", version: "1", labels: ["basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"],
        inputSize: 64, normalization: {}, architecture: {}, metrics: {}, artifactPath: "/nonexistent", artifactSha256: "1".repeat(64), status: "ARCHIVED",
      },
    });
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10, model: pbc });
    await api.prisma.case.update({ where: { id: kase.id }, data: { specimen: "peripheral blood", wbcCount: 5 } });
    const live = `query($id: ID!) { case(id: $id) { differential { cartAssessed cartCount cartPercent cartPercentCi95 cartPercentOfLymphocytes } } }`;
    expect((await api.gqlOk(hema, live, { id: kase.id })).case.differential).toEqual({ cartAssessed: false, cartCount: 0, cartPercent: null, cartPercentCi95: null, cartPercentOfLymphocytes: null });
    // A reviewer may still call a cell CAR-T (another registered model has the class): counted, but no share is claimed.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], label: "car_t", expectedReviewCount: 0, expectedLabel: "basophil", reason: "CAR-T morphology" } });
    await confirmAll(cellIds.slice(1));
    const r = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...(await seen(kase.id)) } });
    expect(r.signOffCase.content.schema).toBe("rcmnet.signed-report/10");
    expect(r.signOffCase.content.differential).toMatchObject({ cartAssessed: false, cartCount: 1, cartPercent: null, cartPercentCi95: null, cartPercentOfLymphocytes: null });
    expect(r.signOffCase.content.absoluteCounts).toMatchObject({ wbcPerUl: 5000, cartPerUl: null, cartPerUlCi95: null });
    expect(r.signOffCase.content.absoluteCounts.lymphocytesPerUl).toBeGreaterThan(0);
  });

  it("withholds an amendment's reason (column, signed content, audit trail, CSV) from roles that may not see patient references", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const v1 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } })).signOffCase;
    const reason = "smear belongs to MRN-4411";
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason, expectedReportVersion: 1 } });
    const v2 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: "Amended report: reviewed and approved", ...(await seen(kase.id)) } })).signOffCase;
    expect(v2).toMatchObject({ version: 2, amendmentReason: reason, content: { amendmentReason: reason }, supersedes: { id: v1.id } });
    const READ = `query($id: ID!) { signOff(id: $id) { version amendmentReason content contentSha256 } case(id: "${kase.id}") { signOffs { amendmentReason } currentSignOff { amendmentReason content } } }`;
    // Free text that may name a patient: withheld, like the reference and the comment.
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) {
      const r = await api.gqlOk(await api.loginAs(role), READ, { id: v2.id });
      expect(r.signOff, role).toMatchObject({ version: 2, amendmentReason: null, contentSha256: null });
      expect(r.signOff.content, role).toHaveProperty("amendmentReason", null);
      expect(r.case.signOffs, role).toEqual([{ amendmentReason: null }, { amendmentReason: null }]);
      expect(r.case.currentSignOff.amendmentReason, role).toBeNull();
      expect(r.case.currentSignOff.content.amendmentReason, role).toBeNull();
      expect(JSON.stringify(r), role).not.toContain("MRN-4411");
    }
    // Roles that may see patient references read it as signed, and its hash verifies.
    for (const role of ["HEMATOLOGIST", "AUDITOR"] as const) {
      const r = await api.gqlOk(role === "HEMATOLOGIST" ? hema : await api.loginAs(role), READ, { id: v2.id });
      expect(r.signOff, role).toMatchObject({ amendmentReason: reason, content: { amendmentReason: reason }, contentSha256: v2.contentSha256 });
      expect(sha256OfContent(r.signOff.content), role).toBe(v2.contentSha256);
      expect(r.case.signOffs, role).toEqual([{ amendmentReason: null }, { amendmentReason: reason }]);
    }
    expect((await api.gqlOk(await api.loginAs("ADMIN"), `query($id: ID!) { verifySignOff(id: $id) { ok } }`, { id: v2.id })).verifySignOff.ok).toBe(true);
    // The case.amend event's reason: the trail and its CSV export (ADMIN and AUDITOR read them).
    const TRAIL = `query($f: AuditFilter) { auditTrail(filter: $f, first: 5) { nodes { action reason } } }`;
    const f = { entityType: "Case", entityId: kase.id, action: "case.amend" };
    const admin = await api.loginAs("ADMIN");
    const auditor = await api.loginAs("AUDITOR");
    expect((await api.gqlOk(admin, TRAIL, { f })).auditTrail.nodes).toEqual([{ action: "case.amend", reason: null }]);
    expect((await api.gqlOk(auditor, TRAIL, { f })).auditTrail.nodes).toEqual([{ action: "case.amend", reason }]);
    const csvAs = async (token: string) => (await api.fetch(`/audit.csv?entityId=${kase.id}&action=case.amend`, { token })).text();
    const byAdmin = await csvAs(admin);
    expect(byAdmin).toMatch(/^# rows=1 complete; /m);
    expect(byAdmin).not.toContain("MRN-4411");
    expect(await csvAs(auditor)).toContain(reason);
    // Stored as signed: the redaction is on the way out only.
    expect((await api.prisma.signOff.findUniqueOrThrow({ where: { id: v2.id } })).amendmentReason).toBe(reason);
  });

  it("withholds a cell's review reason (Review.reason, signed cells[].reason, cell.reclassify/cell.confirm events, CSV) from roles that may not see patient references", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    const [reclassified, confirmed, plain] = cellIds as [string, string, string];
    const reason = "MRN-4411";
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: reclassified, expectedReviewCount: 0, expectedLabel: "car_t", label: "artifact", reason } });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [confirmed], { reason: "second look, MRN-4411" }) });
    // A decision without a reason: nothing to withhold, and none said to be.
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [plain]) });
    const signed = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...(await seen(kase.id)) } })).signOffCase;
    const cellOf = (content: { cells: { id: string; reason: string | null }[] }, id: string) => content.cells.find((c) => c.id === id)!;
    expect(cellOf(signed.content, reclassified).reason).toBe(reason);

    const READ = `query($a: ID!, $b: ID!, $c: ID!, $s: ID!) {
      a: cell(id: $a) { reviews { reason reasonWithheld } } b: cell(id: $b) { reviews { reason reasonWithheld } } c: cell(id: $c) { reviews { reason reasonWithheld } }
      signOff(id: $s) { content withheld } }`;
    const vars = { a: reclassified, b: confirmed, c: plain, s: signed.id };
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) {
      const r = await api.gqlOk(await api.loginAs(role), READ, vars);
      expect(r.a.reviews, role).toEqual([{ reason: null, reasonWithheld: true }]);
      expect(r.b.reviews, role).toEqual([{ reason: null, reasonWithheld: true }]);
      expect(r.c.reviews, role).toEqual([{ reason: null, reasonWithheld: false }]);
      expect(cellOf(r.signOff.content, reclassified), role).toHaveProperty("reason", null);
      expect(cellOf(r.signOff.content, confirmed), role).toHaveProperty("reason", null);
      expect(r.signOff.withheld, role).toContain("cells[].reason");
      expect(JSON.stringify(r), role).not.toContain("MRN-4411");
    }
    for (const role of ["HEMATOLOGIST", "AUDITOR"] as const) {
      const r = await api.gqlOk(role === "HEMATOLOGIST" ? hema : await api.loginAs(role), READ, vars);
      expect(r.a.reviews, role).toEqual([{ reason, reasonWithheld: false }]);
      expect(r.b.reviews, role).toEqual([{ reason: "second look, MRN-4411", reasonWithheld: false }]);
      expect(cellOf(r.signOff.content, reclassified).reason, role).toBe(reason);
      expect(r.signOff.withheld, role).toEqual([]);
      expect(sha256OfContent(r.signOff.content), role).toBe(signed.contentSha256);
    }
    // The decisions' audit events (ADMIN and AUDITOR read the trail), and their CSV export.
    const TRAIL = `query($f: AuditFilter) { auditTrail(filter: $f, first: 10) { nodes { action entityId reason reasonWithheld } } }`;
    const f = { caseAccession: kase.accession, entityType: "Cell" };
    const admin = await api.loginAs("ADMIN");
    const auditor = await api.loginAs("AUDITOR");
    const byId = (nodes: { entityId: string }[]) => Object.fromEntries(nodes.map(({ entityId, ...n }) => [entityId, n]));
    expect(byId((await api.gqlOk(admin, TRAIL, { f })).auditTrail.nodes)).toEqual({
      [reclassified]: { action: "cell.reclassify", reason: null, reasonWithheld: true },
      [confirmed]: { action: "cell.confirm", reason: null, reasonWithheld: true },
      [plain]: { action: "cell.confirm", reason: null, reasonWithheld: false },
    });
    expect(byId((await api.gqlOk(auditor, TRAIL, { f })).auditTrail.nodes)).toEqual({
      [reclassified]: { action: "cell.reclassify", reason, reasonWithheld: false },
      [confirmed]: { action: "cell.confirm", reason: "second look, MRN-4411", reasonWithheld: false },
      [plain]: { action: "cell.confirm", reason: null, reasonWithheld: false },
    });
    const csvAs = async (token: string) => {
      const res = await api.fetch(`/audit.csv?caseAccession=${encodeURIComponent(kase.accession)}&entityType=Cell`, { token });
      return { redacted: res.headers.get("x-audit-redacted"), text: await res.text() };
    };
    const byAdmin = await csvAs(admin);
    expect(byAdmin.text).toMatch(/^# rows=3 complete; /m);
    expect(byAdmin.text).not.toContain("MRN-4411");
    expect(byAdmin.redacted).toMatch(/reason of \S*cell\.reclassify\S*/);
    expect(byAdmin.redacted).toMatch(/reason of \S*cell\.confirm\S*/);
    const byAuditor = await csvAs(auditor);
    expect(byAuditor.text).toContain(reason);
    expect(byAuditor.redacted).toBeNull();
    // Stored as typed: the redaction is on the way out only.
    expect((await api.prisma.review.findFirstOrThrow({ where: { cellId: reclassified } })).reason).toBe(reason);
  });

  it("signs a cell reclassified to blast among the white cells, and the signer's morphology comment", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    // The fixture's tenth cell is an AI abstention: a blast, not an unidentified cell out of the count.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[9], expectedReviewCount: 0, expectedLabel: "unidentified", label: "blast", reason: "blast: fine chromatin, nucleoli" } });
    await confirmAll(cellIds.slice(0, 9));
    const live = (await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { differential { counted rows { label count } } } }`, { id: kase.id })).case.differential;
    expect(live.counted).toBe(10);
    expect(live.rows).toContainEqual({ label: "blast", count: 1 });
    const comment = "Occasional blasts (1 of 10 cells): recommend flow cytometry for relapse.";
    const r = await api.gqlOk(hema, SIGN, {
      input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, comment: `  ${comment}\n`, ...(await seen(kase.id)) },
    });
    const content = r.signOffCase.content;
    expect(content.schema).toBe("rcmnet.signed-report/10");
    expect(content.differential.counted).toBe(10);
    expect(content.differential.rows.at(-1)).toEqual({ label: "blast", count: 1, percent: 10 });
    expect(content.differential.excluded).toEqual([]);
    expect(content.cells.find((c: { id: string }) => c.id === cellIds[9])).toMatchObject({ label: "blast", action: "RECLASSIFY" });
    // The comment is signed (trimmed): part of the content the hash covers.
    expect(content.comment).toBe(comment);
    // Read back on its own, as an amendment's dialog starts from it.
    const current = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { currentSignOff { comment } } }`, { id: kase.id });
    expect(current.case.currentSignOff.comment).toBe(comment);
    // Free text that may name a patient: withheld, like the reference, from ADMIN and DATA_SCIENTIST.
    const asAdmin = await api.gqlOk(await api.loginAs("ADMIN"), `query($id: ID!) { case(id: $id) { currentSignOff { comment content } } }`, { id: kase.id });
    expect(asAdmin.case.currentSignOff.comment).toBeNull();
    expect(asAdmin.case.currentSignOff.content.comment).toBeNull();
    expect(sha256OfContent(content)).toBe(r.signOffCase.contentSha256);
    expect((await api.gqlOk(hema, `query($id: ID!) { verifySignOff(id: $id) { ok } }`, { id: r.signOffCase.id })).verifySignOff.ok).toBe(true);
  });

  it("refuses a morphology comment over 2,000 characters, storing nothing; blank is none; an amendment signs its own", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const before = await databaseFingerprint(api.prisma);
    const long = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, comment: "x".repeat(2001), ...(await seen(kase.id)) } });
    expect(long.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(long.errors?.[0]?.message).toMatch(/2,000 characters/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    const v1 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, comment: "  \n ", ...(await seen(kase.id)) } })).signOffCase;
    expect(v1.content).toHaveProperty("comment", null);
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Add the morphology comment", expectedReportVersion: 1 } });
    // At most 2,000 characters once trimmed.
    const full = "é".repeat(2000);
    const v2 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: "Amended report: reviewed and approved", comment: ` ${full} `, ...(await seen(kase.id)) } })).signOffCase;
    expect(v2).toMatchObject({ version: 2, content: { comment: full } });
    // Version 1 stays as signed, without one.
    expect((await api.prisma.signOff.findUniqueOrThrow({ where: { id: v1.id } })).content).toHaveProperty("comment", null);
  });

  it("names what it withholds from a reader's copy (SignOff.withheld), only fields signed with a value, never their values", async () => {
    const READ = `query($id: ID!) { signOff(id: $id) { withheld content comment amendmentReason } }`;
    const VOID = `mutation($id: ID!, $reason: String!, $at: DateTime!) { voidSlide(slideId: $id, reason: $reason, expectedUpdatedAt: $at) { id } }`;
    const sign = async (caseId: string, meaning: string, comment?: string) =>
      (await api.gqlOk(hema, SIGN, { input: { caseId, login: hemaLogin, password: TEST_PASSWORD, meaning, comment, ...(await seen(caseId)) } })).signOffCase as { id: string };
    // A: a patient reference, a collection time, a comment, and an image voided as another patient's.
    const a = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await api.prisma.case.update({ where: { id: a.kase.id }, data: { collectedAt: new Date("2026-11-20T08:30:00Z") } });
    const stray = await api.prisma.slide.create({
      data: { caseId: a.kase.id, imageSha256: randomHex(), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, analysisStatus: "DONE", uploadedById: techId },
    });
    await api.gqlOk(hema, VOID, { id: stray.id, reason: "belongs to MRN-4411", at: stray.updatedAt.toISOString() });
    await confirmAll(a.cellIds);
    const a1 = await sign(a.kase.id, MEANING, "Blasts seen; compare with MRN-4411");
    await api.gqlOk(hema, AMEND, { input: { caseId: a.kase.id, reason: "smear belongs to MRN-4411", expectedReportVersion: 1 } });
    // Its amendment signs no comment: none to withhold.
    const a2 = await sign(a.kase.id, "Amended report: reviewed and approved");
    // B: no patient reference, no collection time, no comment, no voided image.
    const b = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await api.prisma.case.update({ where: { id: b.kase.id }, data: { patientRef: null } });
    await confirmAll(b.cellIds);
    const b1 = await sign(b.kase.id, MEANING);

    // Every case's cells were confirmed with a reason (confirmAll): cells[].reason is withheld in each.
    const expected = {
      [a1.id]: ["auditAnchor.hash", "case.collectedAt", "case.patientRef", "cells[].reason", "comment", "slides[].voided.reason"],
      [a2.id]: ["amendmentReason", "auditAnchor.hash", "case.collectedAt", "case.patientRef", "cells[].reason", "slides[].voided.reason", "supersedes.contentSha256"],
      [b1.id]: ["auditAnchor.hash", "cells[].reason"],
    };
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) {
      const token = await api.loginAs(role);
      for (const [id, names] of Object.entries(expected)) {
        const r = (await api.gqlOk(token, READ, { id })).signOff;
        expect(r.withheld, `${role} ${id}`).toEqual(names);
        // Null in the reader's copy either way: only the names tell a withheld comment from none.
        expect(r.content.comment, role).toBeNull();
        expect(JSON.stringify(r), role).not.toMatch(/MRN-|2026-11-20T08:30/);
      }
    }
    // Roles that read the content as signed: nothing withheld.
    for (const role of ["HEMATOLOGIST", "AUDITOR"] as const) {
      const token = role === "HEMATOLOGIST" ? hema : await api.loginAs(role);
      for (const id of Object.keys(expected)) expect((await api.gqlOk(token, READ, { id })).signOff.withheld, `${role} ${id}`).toEqual([]);
      expect((await api.gqlOk(token, READ, { id: a1.id })).signOff).toMatchObject({ comment: "Blasts seen; compare with MRN-4411", content: { case: { patientRef: "MRN-0001" } } });
    }
  });

  it("gives no absolute counts for cells from hand-picked crops: their shares are not a differential", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4, slideKind: "CROP" });
    await api.prisma.case.update({ where: { id: kase.id }, data: { specimen: "peripheral blood", wbcCount: 5 } });
    await confirmAll(cellIds);
    const r = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(r.signOffCase.content.case).toMatchObject({ specimen: "peripheral blood", wbcCount: 5 });
    expect(r.signOffCase.content.absoluteCounts).toBeNull();
  });

  it("refuses a signature over a page that is out of date, changing nothing; signs once reloaded", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4 });
    await confirmAll(cellIds);
    const page = await seen(kase.id);
    // A second hematologist changes a cell after the first one's page loaded.
    const other = await api.createUser("HEMATOLOGIST");
    const otherToken = await api.login(other.user.login, other.password);
    await api.gqlOk(otherToken, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 1, expectedLabel: "car_t", label: "artifact", reason: "debris" } });
    const before = await databaseFingerprint(api.prisma);
    const stale = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...page } });
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(stale.errors?.[0]?.message).toMatch(/changed since your page loaded \(4 cells and 5 decisions now, 4 and 4 on your page\)/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    const missing = await api.gql(hema, `mutation($c: ID!) { signOffCase(input: { caseId: $c, login: "x", password: "x", meaning: "Reviewed" }) { id } }`, { c: kase.id });
    expect(missing.errors?.[0]?.message).toMatch(/seenCells/);
    const signed = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: CORRECTED, ...(await seen(kase.id)) } });
    expect(signed.signOffCase.content.differential.artifacts).toBe(1);
  });

  it("refuses a signature over a page loaded before an image was added and failed, or the case details changed", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const page = await seen(kase.id);
    // A technician adds an image; its analysis fails with no cells, and the case is back in review.
    await api.prisma.case.update({ where: { id: kase.id }, data: { status: "ANALYZING" } });
    await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: "a".repeat(64), mimeType: "image/png", byteSize: 10, width: 100, height: 100, analysisStatus: "RUNNING", uploadedById: techId },
    });
    const failedSlide = await api.prisma.slide.findFirstOrThrow({ where: { caseId: kase.id, imageSha256: "a".repeat(64) } });
    await api.prisma.$transaction((tx) => failSlide(tx, failedSlide.id, "corrupt image", ["RUNNING"]));
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
    // Same cells and decisions as the page showed: only the case's version tells.
    expect(await seen(kase.id)).toMatchObject({ seenCells: page.seenCells, seenDecisions: page.seenDecisions });
    const before = await databaseFingerprint(api.prisma);
    const stale = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...page } });
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(stale.errors?.[0]?.message).toMatch(/changed since your page loaded \(its details or images\)/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // The details change under a reloaded page: refused again.
    const reloaded = await seen(kase.id);
    await api.prisma.case.update({ where: { id: kase.id }, data: { timepoint: "day +28" } });
    const edited = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...reloaded } });
    expect(edited.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const signed = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } })).signOffCase;
    expect(signed.content.case.timepoint).toBe("day +28");
    expect(signed.content.slides.find((sl: { id: string }) => sl.id === failedSlide.id)).toMatchObject({ analysisStatus: "FAILED" });
  });

  it("verification notices a row whose shown columns were changed behind the triggers", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const { signOffCase: signed } = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    const VERIFY = `query($id: ID!) { verifySignOff(id: $id) { ok mismatches storedSha256 computedSha256 } }`;
    expect((await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff).toMatchObject({ ok: true, mismatches: [] });
    // What only a database superuser can do: switch the append-only trigger off and rewrite the
    // printed name and meaning. The content (and so its hash) is untouched.
    await api.prisma.$transaction([
      api.prisma.$executeRawUnsafe(`ALTER TABLE sign_off DISABLE TRIGGER USER`),
      api.prisma.$executeRaw`UPDATE sign_off SET "signerName" = 'Dr. Somebody Else', meaning = 'Approved' WHERE id = ${signed.id}::uuid`,
      api.prisma.$executeRawUnsafe(`ALTER TABLE sign_off ENABLE TRIGGER USER`),
    ]);
    const tampered = (await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff;
    expect(tampered).toMatchObject({ ok: false, mismatches: ["signerName", "meaning"] });
    expect(tampered.computedSha256).toBe(tampered.storedSha256);
  });

  it("verification notices content and its hash rewritten together: the audit trail kept the signed hash", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const { signOffCase: signed } = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    const VERIFY = `query($id: ID!) { verifySignOff(id: $id) { ok mismatches storedSha256 computedSha256 auditedSha256 } }`;
    expect((await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff).toMatchObject({ ok: true, mismatches: [], auditedSha256: signed.contentSha256 });
    // A superuser relabels a cell in the signed content and stores the matching hash.
    const content = { ...signed.content, cells: signed.content.cells.map((c: { label: string }, i: number) => (i === 0 ? { ...c, label: "artifact" } : c)) };
    const forged = sha256OfContent(content);
    await api.prisma.$transaction([
      api.prisma.$executeRawUnsafe(`ALTER TABLE sign_off DISABLE TRIGGER USER`),
      api.prisma.$executeRaw`UPDATE sign_off SET content = ${JSON.stringify(content)}::jsonb, "contentSha256" = ${forged} WHERE id = ${signed.id}::uuid`,
      api.prisma.$executeRawUnsafe(`ALTER TABLE sign_off ENABLE TRIGGER USER`),
    ]);
    const result = (await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff;
    expect(result).toMatchObject({ ok: false, mismatches: ["auditTrail"], storedSha256: forged, computedSha256: forged, auditedSha256: signed.contentSha256 });
  });

  it("signs each cell's crop and box, and verification notices a signed cell's row changed behind the triggers", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const { signOffCase: signed } = await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    const first = await api.prisma.cell.findUniqueOrThrow({ where: { id: signed.content.cells[0].id } });
    expect(signed.content.cells[0]).toMatchObject({ crop: first.cropSha256, box: [first.x, first.y, first.width, first.height] });
    const VERIFY = `query($id: ID!) { verifySignOff(id: $id) { ok mismatches } }`;
    expect((await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff).toEqual({ ok: true, mismatches: [] });
    // A superuser, the cell table's guards off, swaps the image a signed decision was about.
    const other = await api.prisma.cell.findUniqueOrThrow({ where: { id: signed.content.cells[1].id } });
    await api.prisma.$transaction([
      api.prisma.$executeRawUnsafe(`ALTER TABLE cell DISABLE TRIGGER USER`),
      api.prisma.$executeRaw`UPDATE cell SET "cropSha256" = ${other.cropSha256} WHERE id = ${first.id}::uuid`,
      api.prisma.$executeRawUnsafe(`ALTER TABLE cell ENABLE TRIGGER USER`),
    ]);
    expect((await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff).toEqual({ ok: false, mismatches: ["cells"] });
    // Put back: it verifies again (the check compares, it records nothing).
    await api.prisma.$transaction([
      api.prisma.$executeRawUnsafe(`ALTER TABLE cell DISABLE TRIGGER USER`),
      api.prisma.$executeRaw`UPDATE cell SET "cropSha256" = ${first.cropSha256} WHERE id = ${first.id}::uuid`,
      api.prisma.$executeRawUnsafe(`ALTER TABLE cell ENABLE TRIGGER USER`),
    ]);
    expect((await api.gqlOk(hema, VERIFY, { id: signed.id })).verifySignOff).toEqual({ ok: true, mismatches: [] });
  });

  it("two hematologists signing at once: one signature, the other gets CONFLICT", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4 });
    await confirmAll(cellIds);
    const other = await api.createUser("HEMATOLOGIST");
    const otherToken = await api.login(other.user.login, other.password);
    const input = { caseId: kase.id, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) };
    const results = await Promise.all([api.gql(hema, SIGN, { input: { ...input, login: hemaLogin } }), api.gql(otherToken, SIGN, { input: { ...input, login: other.user.login } })]);
    expect(results.map((r) => r.errors?.[0]?.extensions?.code ?? "OK").sort()).toEqual(["CONFLICT", "OK"]);
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(1);
  });

  it("signs nothing for an account disabled while its signature waited for the case", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const h = await api.createUser("HEMATOLOGIST");
    const token = await api.login(h.user.login, h.password);
    for (const cellId of cellIds) await api.gqlOk(token, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellId], { reason: "seen" }) });
    const input = { caseId: kase.id, login: h.user.login, password: h.password, meaning: MEANING, ...(await seen(kase.id)) };
    // Another transaction holds the case (an amendment, say) while the signature's password is checked.
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const holder = api.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "case" WHERE id = ${kase.id}::uuid FOR UPDATE`;
      await gate;
    }, { timeout: 20_000 });
    const signing = api.gql(token, SIGN, { input });
    await new Promise((ok) => setTimeout(ok, 800));
    await api.prisma.user.update({ where: { id: h.user.id }, data: { disabled: true } });
    release();
    await holder;
    const r = await signing;
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(r.errors?.[0]?.message).toMatch(/Your account changed while signing/);
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(0);
  });

  it("refuses to amend a case that is not signed", async () => {
    const { kase } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const r = await api.gql(hema, AMEND, { input: { caseId: kase.id, reason: "just because", expectedReportVersion: 1 } });
    expect(r.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });
});

describe("retraction", () => {
  const RETRACTION = "Amended report: retracted, no valid result";
  const AMENDED = "Amended report: reviewed and approved";
  const VOID = `mutation($id: ID!, $reason: String!, $at: DateTime!) { voidSlide(slideId: $id, reason: $reason, expectedUpdatedAt: $at) { id } }`;
  const VERIFY = `query($id: ID!) { verifySignOff(id: $id) { ok mismatches } signOff(id: $id) { version retracted } }`;

  /** Voids every image of the case, as a hematologist in an amendment does with another patient's smears. */
  async function voidAll(caseId: string, reason: string) {
    for (const slide of await api.prisma.slide.findMany({ where: { caseId, voidedAt: null } })) {
      await api.gqlOk(hema, VOID, { id: slide.id, reason, at: slide.updatedAt.toISOString() });
    }
  }

  /** A version-1 report of a case with `cells` cells, each decided and signed. */
  async function signedCase(cells: number) {
    const seeded = await seedReviewableCase(api.prisma, { createdById: techId, cells });
    await confirmAll(seeded.cellIds);
    const v1 = (await api.gqlOk(hema, SIGN, { input: { caseId: seeded.kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(seeded.kase.id)) } })).signOffCase;
    return { ...seeded, v1 };
  }

  it("closes an amendment whose images were all voided: a signed, verified version that withdraws the one before", async () => {
    // Case A signed as version 1; its smears turn out to be patient B's.
    const { kase, model, v1 } = await signedCase(3);
    const reason = "Smears are patient B's (MRN-4411), not this patient's";
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason, expectedReportVersion: 1 } });
    await voidAll(kase.id, "smear of another patient");
    const others = { TECHNICIAN: await api.loginAs("TECHNICIAN"), ADMIN: await api.loginAs("ADMIN") };

    // No cell to count: an approval is refused, naming the way out; nothing is stored.
    const before = await databaseFingerprint(api.prisma);
    for (const meaning of [AMENDED, AMENDED_CORRECTED]) {
      const refused = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning, ...(await seen(kase.id)) } });
      expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect(refused.errors?.[0]?.message).toMatch(/has no cells to sign \(every image is voided or failed\): to withdraw version 1 .* sign this amendment as "Amended report: retracted, no valid result"/);
    }
    // Only a hematologist signs, a retraction too.
    for (const role of ["TECHNICIAN", "ADMIN"] as const) {
      const r = await api.gql(others[role], SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: RETRACTION, ...(await seen(kase.id)) } });
      expect(r.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
    }
    expect({ ...(await databaseFingerprint(api.prisma)), user: "" }).toEqual({ ...before, user: "" });
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(1);
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "IN_REVIEW", reportVersion: 1 });

    // The retraction: the usual signature (both components), no comment, zero cells.
    const r = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: RETRACTION, ...(await seen(kase.id)) } })).signOffCase;
    expect(r).toMatchObject({ version: 2, meaning: RETRACTION, amendmentReason: reason, supersedes: { id: v1.id, version: 1 } });
    expect(r.content).toMatchObject({ schema: "rcmnet.signed-report/10", retracted: true, meaning: RETRACTION, amendmentReason: reason, comment: null, cells: [] });
    expect(r.content.supersedes).toEqual({ id: v1.id, version: 1, contentSha256: v1.contentSha256 });
    expect(r.content.differential.total).toBe(0);
    expect(r.content.slides).toHaveLength(1);
    expect(r.content.slides[0].voided).toMatchObject({ byLogin: hemaLogin, reason: "smear of another patient" });
    expect(sha256OfContent(r.content)).toBe(r.contentSha256);
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "AMENDED", reportVersion: 2 });
    // Both versions verify; version 2 is the report of record and says it retracts.
    expect(await api.gqlOk(hema, VERIFY, { id: r.id })).toEqual({ verifySignOff: { ok: true, mismatches: [] }, signOff: { version: 2, retracted: true } });
    expect(await api.gqlOk(hema, VERIFY, { id: v1.id })).toEqual({ verifySignOff: { ok: true, mismatches: [] }, signOff: { version: 1, retracted: false } });
    const read = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { currentSignOff { version retracted } signOffs { version retracted } } }`, { id: kase.id });
    expect(read.case).toEqual({ currentSignOff: { version: 2, retracted: true }, signOffs: [{ version: 1, retracted: false }, { version: 2, retracted: true }] });
    // The trail says a report was withdrawn, and under what meaning, without reading the content.
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.sign_off", entityId: kase.id }, orderBy: { seq: "desc" } });
    expect(event.after).toMatchObject({ status: "AMENDED", reportVersion: 2, signOffId: r.id, contentSha256: r.contentSha256, meaning: RETRACTION, retracted: true });
    // A row whose meaning was changed behind the triggers no longer agrees with its content.
    const stored = await api.prisma.signOff.findUniqueOrThrow({ where: { id: r.id } });
    expect(verifySignOffRow({ ...stored, meaning: AMENDED }, r.contentSha256).mismatches).toEqual(["meaning", "retracted"]);

    // The right smears arrive: a later amendment works as any amendment, and gives a result again.
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "The patient's own smears arrived", expectedReportVersion: 2 } });
    const slide = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: randomHex(), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, analysisStatus: "DONE", uploadedById: techId },
    });
    const cells = await Promise.all(
      [0, 1].map((i) => api.prisma.cell.create({ data: { slideId: slide.id, x: i * 30, y: 0, width: 24, height: 24, cropSha256: randomHex(), currentLabel: model.labels[0]! } })),
    );
    for (const cell of cells) await api.prisma.prediction.create({ data: { cellId: cell.id, modelVersionId: model.id, label: model.labels[0]!, probabilities: { [model.labels[0]!]: 0.9 }, confidence: 0.9 } });
    await confirmAll(cells.map((c) => c.id));
    const v3 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: AMENDED, ...(await seen(kase.id)) } })).signOffCase;
    expect(v3).toMatchObject({ version: 3, meaning: AMENDED, amendmentReason: "The patient's own smears arrived", supersedes: { id: r.id, version: 2 } });
    expect(v3.content).toMatchObject({ retracted: false });
    expect(v3.content.cells).toHaveLength(2);
    expect(await api.gqlOk(hema, VERIFY, { id: v3.id })).toEqual({ verifySignOff: { ok: true, mismatches: [] }, signOff: { version: 3, retracted: false } });
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "AMENDED", reportVersion: 3 });
  });

  it("may retract a version whose cells stay: recorded, not reported, and not learned from", async () => {
    const { kase, cellIds, v1 } = await signedCase(2);
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Specimen clotted: no count from it is valid", expectedReportVersion: 1 } });
    // With cells, an amendment may approve or retract; retraction is never the one offered first.
    const r = (
      await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: RETRACTION, comment: "Clot in the tube: redraw requested", ...(await seen(kase.id)) } })
    ).signOffCase;
    expect(r).toMatchObject({ version: 2, meaning: RETRACTION, supersedes: { id: v1.id } });
    expect(r.content).toMatchObject({ retracted: true, comment: "Clot in the tube: redraw requested" });
    expect(r.content.cells.map((c: { id: string }) => c.id).sort()).toEqual([...cellIds].sort());
    expect((await api.gqlOk(hema, VERIFY, { id: r.id })).verifySignOff.ok).toBe(true);
    // A retracted case's cells teach no model: a snapshot leaves them out.
    const snapshot = await api.gqlOk(await api.loginAs("DATA_SCIENTIST"), `mutation { createDatasetSnapshot(name: "after a retraction") { id } }`);
    const items = await api.prisma.datasetItem.count({ where: { snapshotId: snapshot.createDatasetSnapshot.id, cellId: { in: cellIds } } });
    expect(items).toBe(0);

    // The redraw's smear arrives in a new amendment. The clotted specimen's cells, still counted,
    // would be reported again beside it, under "reviewed and approved": refused, nothing stored.
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Redraw received", expectedReportVersion: 2 } });
    const [old] = await api.prisma.slide.findMany({ where: { caseId: kase.id } });
    const redraw = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: randomHex(), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, analysisStatus: "DONE", uploadedById: techId },
    });
    const label = (await api.prisma.cell.findUniqueOrThrow({ where: { id: cellIds[0]! } })).currentLabel!;
    const fresh = await Promise.all([0, 1].map((i) => api.prisma.cell.create({ data: { slideId: redraw.id, x: i * 30, y: 0, width: 24, height: 24, cropSha256: randomHex(), currentLabel: label } })));
    await confirmAll(fresh.map((c) => c.id));
    const sign = async () => api.gql(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: AMENDED, ...(await seen(kase.id)) } });
    const before = await databaseFingerprint(api.prisma);
    const refused = await sign();
    expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/^2 cell\(s\) of case .* were withdrawn by the retraction signed as version 2 and have not been decided since .*void their images .* or decide each again/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // A cell decided again since the retraction is the hematologist's new word: it counts.
    await confirmAll([cellIds[0]!]);
    expect((await sign()).errors?.[0]?.message).toMatch(/^1 cell\(s\) .* withdrawn/);
    // The clotted smear voided: version 3 reports the redraw's cells only.
    await api.gqlOk(hema, VOID, { id: old!.id, reason: "clotted specimen, retracted in version 2", at: (await api.prisma.slide.findUniqueOrThrow({ where: { id: old!.id } })).updatedAt.toISOString() });
    const v3 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: AMENDED, ...(await seen(kase.id)) } })).signOffCase;
    expect(v3).toMatchObject({ version: 3, content: { retracted: false } });
    expect(v3.content.cells.map((c: { id: string }) => c.id).sort()).toEqual(fresh.map((c) => c.id).sort());
  });

  it("tells the review page which cells a retraction withdrew and are still counted (Cell.withdrawnInVersion), as the sign-off rule counts them", async () => {
    const { kase, cellIds, slideId } = await signedCase(3);
    const CELLS = `query($id: ID!, $slide: ID) { case(id: $id) { cells(first: 100, slideId: $slide) { nodes { id withdrawnInVersion } } } }`;
    const withdrawn = async (slide?: string) =>
      Object.fromEntries(
        (await api.gqlOk(hema, CELLS, { id: kase.id, slide: slide ?? null })).case.cells.nodes.map((c: { id: string; withdrawnInVersion: number | null }) => [c.id, c.withdrawnInVersion]),
      );
    const none = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, null]));
    // Version 1 is a result: nothing is withdrawn, signed or being amended.
    expect(await withdrawn()).toEqual(none(cellIds));
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Specimen clotted: no count from it is valid", expectedReportVersion: 1 } });
    expect(await withdrawn()).toEqual(none(cellIds));
    await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: RETRACTION, ...(await seen(kase.id)) } });
    // Retracted and not amended: the case is signed, nothing is about to be signed over it.
    expect(await withdrawn()).toEqual(none(cellIds));

    // Amended again (the redraw arrives): every cell the retraction signed is withdrawn by version 2;
    // the redraw's cells are not.
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Redraw received", expectedReportVersion: 2 } });
    const redraw = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: randomHex(), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, analysisStatus: "DONE", uploadedById: techId },
    });
    const label = (await api.prisma.cell.findUniqueOrThrow({ where: { id: cellIds[0]! } })).currentLabel!;
    const fresh = await Promise.all([0, 1].map((i) => api.prisma.cell.create({ data: { slideId: redraw.id, x: i * 30, y: 0, width: 24, height: 24, cropSha256: randomHex(), currentLabel: label } })));
    await confirmAll(fresh.map((c) => c.id));
    expect(await withdrawn()).toEqual({ ...Object.fromEntries(cellIds.map((id) => [id, 2])), ...none(fresh.map((c) => c.id)) });
    // One cell at a time too (the history panel's query).
    expect((await api.gqlOk(hema, `query($id: ID!) { cell(id: $id) { withdrawnInVersion } }`, { id: cellIds[1] })).cell.withdrawnInVersion).toBe(2);

    // A gallery group's button is not a decision made on each cell: refused for withdrawn cells,
    // confident lymphocyte and neutrophil calls as these two are (both would be bulk-confirmable
    // otherwise); nothing stored.
    const before = await databaseFingerprint(api.prisma);
    const group = await api.gql(hema, `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells, asGroup: true) { id } }`, {
      cells: await confirmAsSeen(api.prisma, [cellIds[1]!, cellIds[2]!]),
    });
    expect(group.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(group.errors?.[0]?.message).toMatch(/^2 of these 2 cells were withdrawn by the retraction signed as version 2: after a retraction each is decided again one by one/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // Confirmed again since the retraction: the hematologist's new word, no longer withdrawn; the
    // confirmation's own answer says so. The refusal counts the other two, as the page does.
    const again = await api.gqlOk(hema, `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id withdrawnInVersion } }`, {
      cells: await confirmAsSeen(api.prisma, [cellIds[0]!], { reason: "seen" }),
    });
    expect(again.confirmCells).toEqual([{ id: cellIds[0], withdrawnInVersion: null }]);
    expect(await withdrawn()).toEqual({ ...Object.fromEntries(cellIds.map((id) => [id, id === cellIds[0] ? null : 2])), ...none(fresh.map((c) => c.id)) });
    const refused = await api.gql(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: AMENDED, ...(await seen(kase.id)) } });
    expect(refused.errors?.[0]?.message).toMatch(/^2 cell\(s\) .* withdrawn by the retraction signed as version 2/);

    // Their image voided, the cells are no longer counted: listed by their slide, they are not withdrawn.
    await api.gqlOk(hema, VOID, { id: slideId, reason: "clotted specimen, retracted in version 2", at: (await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } })).updatedAt.toISOString() });
    expect(await withdrawn(slideId)).toEqual(none(cellIds));
    expect(await withdrawn()).toEqual(none(fresh.map((c) => c.id)));
    // A result signed (version 3), then amended: no retraction is held over any cell.
    const v3 = (await api.gqlOk(hema, SIGN, { input: { caseId: kase.id, password: TEST_PASSWORD, meaning: AMENDED, ...(await seen(kase.id)) } })).signOffCase;
    expect(v3).toMatchObject({ version: 3, content: { retracted: false } });
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "Comment to add", expectedReportVersion: 3 } });
    expect(await withdrawn()).toEqual(none(fresh.map((c) => c.id)));
    expect(await withdrawn(slideId)).toEqual(none(cellIds));
  });

  it("refuses a retraction of a first report, and a first report with no cells whatever its meaning; nothing stored", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    await confirmAll(cellIds);
    const before = await databaseFingerprint(api.prisma);
    const withCells = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: RETRACTION, ...(await seen(kase.id)) } });
    expect(withCells.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(withCells.errors?.[0]?.message).toMatch(/withdraws a signed report, and case .* has none \(this would be its first report\): there is nothing to retract/);
    expect({ ...(await databaseFingerprint(api.prisma)), user: "" }).toEqual({ ...before, user: "" });

    await voidAll(kase.id, "wrong patient's smear");
    const empty = await databaseFingerprint(api.prisma);
    const approval = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: MEANING, ...(await seen(kase.id)) } });
    expect(approval.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(approval.errors?.[0]?.message).toMatch(/has no cells to sign .*: a first report cannot be retracted, as none was issued; upload this patient's images to the case, or leave it unsigned/);
    const retraction = await api.gql(hema, SIGN, { input: { caseId: kase.id, login: hemaLogin, password: TEST_PASSWORD, meaning: RETRACTION, ...(await seen(kase.id)) } });
    expect(retraction.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect({ ...(await databaseFingerprint(api.prisma)), user: "" }).toEqual({ ...empty, user: "" });
    expect(await api.prisma.signOff.count({ where: { caseId: kase.id } })).toBe(0);
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).toMatchObject({ status: "IN_REVIEW", reportVersion: 0 });
  });
});

function randomHex(): string {
  return Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
}
