// Voiding an image uploaded into the wrong case: the record stays, its weight goes (differential,
// sign-off, snapshots), and the void is final, down to the database's own guards.
import { randomBytes } from "node:crypto";
import type { Slide } from "@rcmnet/db";
import { signCaseForTest } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { databaseFingerprint, seedReviewableCase } from "../../testing/fixtures.ts";
import { insertCaseWithCells } from "../../jobs/testing/fixtures.ts";

let api: TestApi;
let tech: string;
let hema: string;
let hemaLogin: string;
let hemaPassword: string;
let techId: string;
let techLogin: string;
beforeAll(async () => {
  api = await createTestApi();
  const t = await api.createUser("TECHNICIAN", { displayName: "Tess Technician" });
  techId = t.user.id;
  techLogin = t.user.login;
  tech = await api.login(t.user.login, t.password);
  const h = await api.createUser("HEMATOLOGIST");
  hemaLogin = h.user.login;
  hemaPassword = h.password;
  hema = await api.login(h.user.login, h.password);
}, 60_000);
afterAll(() => api?.close());

const VOID = `mutation($id: ID!, $reason: String!, $at: DateTime!) {
  voidSlide(slideId: $id, reason: $reason, expectedUpdatedAt: $at) { id updatedAt voidedAt voidReason voidedBy { login displayName } }
}`;
const CONFIRM = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`;
const SIGN = `mutation($input: SignOffCaseInput!) { signOffCase(input: $input) { id content contentSha256 } }`;
const CASE = `query($id: ID!, $slideId: ID) {
  case(id: $id) {
    status updatedAt cellCount reviewedCount failedImageCount
    differential { total counted unreviewed }
    slides { id voidedAt }
    cells(first: 1000, slideId: $slideId) { totalCount nodes { id reviewCount slide { voidedAt } } }
  }
}`;

/** The slide as a page loaded it: its id and updatedAt. */
const loaded = (slide: Slide) => ({ id: slide.id, at: slide.updatedAt.toISOString() });

/** Another analysed image of the case with `cells` cells, each with an AI call. */
async function addSlide(caseId: string, modelId: string, cells: number, analysisStatus: Slide["analysisStatus"] = "DONE") {
  const slide = await api.prisma.slide.create({
    data: { caseId, imageSha256: randomBytes(32).toString("hex"), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, analysisStatus, uploadedById: techId },
  });
  for (let i = 0; i < cells; i++) {
    const cell = await api.prisma.cell.create({
      data: { slideId: slide.id, x: i * 30, y: 0, width: 24, height: 24, cropSha256: randomBytes(32).toString("hex"), currentLabel: "car_t" },
    });
    await api.prisma.prediction.create({
      data: { cellId: cell.id, modelVersionId: modelId, label: "car_t", probabilities: { car_t: 0.9 }, confidence: 0.9 },
    });
  }
  return slide;
}

async function confirmAll(caseId: string, slideId?: string) {
  const cells = await api.prisma.cell.findMany({ where: { slide: { caseId, ...(slideId ? { id: slideId } : {}) }, reviewCount: 0 } });
  for (const c of cells) await api.gqlOk(hema, CONFIRM, { cells: [{ cellId: c.id, expectedReviewCount: 0, expectedLabel: c.currentLabel, reason: "seen" }] });
}

describe("voidSlide", () => {
  it("voids an image with who, when and why, and writes the audit event in the same transaction", async () => {
    const { kase, slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    const r = await api.gqlOk(tech, VOID, { ...loaded(slide), reason: "  wrong patient's smear  " });
    expect(r.voidSlide).toMatchObject({ id: slideId, voidReason: "wrong patient's smear", voidedBy: { login: techLogin, displayName: "Tess Technician" } });
    expect(Date.parse(r.voidSlide.voidedAt)).toBeGreaterThan(0);

    const stored = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    expect(stored).toMatchObject({ voidedById: techId, voidReason: "wrong patient's smear", analysisStatus: "DONE" });
    // The case moved: a sign-off prepared on a page that still counted this image is refused.
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).updatedAt.getTime()).toBeGreaterThan(kase.updatedAt.getTime());

    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "slide.void", entityId: slideId } });
    expect(audit).toMatchObject({ actorId: techId, actorLogin: techLogin, entityType: "Slide", reason: "wrong patient's smear" });
    expect(audit.before).toMatchObject({ id: slideId, voidedAt: null, voidedById: null, voidReason: null });
    expect(audit.after).toMatchObject({ voidedAt: stored.voidedAt!.toISOString(), voidedById: techId, voidReason: "wrong patient's smear", accession: kase.accession });

    // The cells stay readable, flagged through their slide.
    const view = await api.gqlOk(hema, CASE, { id: kase.id, slideId });
    expect(view.case.cells.totalCount).toBe(2);
    expect(view.case.cells.nodes.every((c: { slide: { voidedAt: string | null } }) => c.slide.voidedAt !== null)).toBe(true);
  });

  it("refuses a second void and leaves the first as it was", async () => {
    const { slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    const first = (await api.gqlOk(hema, VOID, { ...loaded(slide), reason: "blurred field" })).voidSlide;
    const before = await databaseFingerprint(api.prisma);
    for (const at of [first.updatedAt, slide.updatedAt.toISOString()]) {
      const again = await api.gql(tech, VOID, { id: slideId, at, reason: "another reason" });
      expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect(again.errors?.[0]?.message).toMatch(/already voided/);
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect((await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } })).voidReason).toBe("blurred field");
  });

  it("refuses roles that neither upload nor review, changing nothing", async () => {
    const { slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    const tokens = await api.loginAsEveryRole();
    const before = await databaseFingerprint(api.prisma);
    for (const role of ["DATA_SCIENTIST", "AUDITOR", "ADMIN"] as const) {
      const r = await api.gql(tokens[role], VOID, { ...loaded(slide), reason: "wrong patient" });
      expect(r.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
    }
    const anonymous = await api.gql(null, VOID, { ...loaded(slide), reason: "wrong patient" });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("refuses a stale expectedUpdatedAt, a missing slide and a reason too short or too long", async () => {
    const { slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    const before = await databaseFingerprint(api.prisma);
    const stale = await api.gql(tech, VOID, { id: slideId, at: new Date(slide.updatedAt.getTime() - 1000).toISOString(), reason: "wrong patient" });
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(stale.errors?.[0]?.message).toMatch(/changed since your page loaded/);
    for (const reason of ["", "   ", "ab", "x".repeat(501)]) {
      const r = await api.gql(tech, VOID, { ...loaded(slide), reason });
      expect(r.errors?.[0]?.extensions?.code, JSON.stringify(reason)).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message).toMatch(/reason/);
    }
    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const r = await api.gql(tech, VOID, { id, at: slide.updatedAt.toISOString(), reason: "wrong patient" });
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("refuses an image of a signed case, in the API and in the database", async () => {
    const { kase, slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    // Signed: the freeze refuses the fixture's own inserts, so the status is set afterwards.
    await signCaseForTest(api.prisma, kase.id);
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    const before = await databaseFingerprint(api.prisma);
    const r = await api.gql(hema, VOID, { ...loaded(slide), reason: "wrong patient" });
    expect(r.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(r.errors?.[0]?.message).toMatch(new RegExp(`${kase.accession} is signed out`));
    await expect(
      api.db.prisma.$executeRaw`UPDATE slide SET "voidedAt" = now(), "voidedById" = ${techId}::uuid, "voidReason" = 'raw' WHERE id = ${slideId}::uuid`,
    ).rejects.toThrow(/signed case/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("takes the image out of the differential, sign-off and snapshots; its cells are not reviewed", async () => {
    // Fields A (3 cells, reviewed), B (2 cells, reviewed before it was found to be the wrong
    // patient's), C (2 cells, never reviewed), D (still waiting for its analysis), E (failed).
    const { kase, slideId: a, model } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3, status: "ANALYZING" });
    const b = await addSlide(kase.id, model.id, 2);
    const c = await addSlide(kase.id, model.id, 2);
    const d = await addSlide(kase.id, model.id, 0, "PENDING");
    const e = await addSlide(kase.id, model.id, 0, "FAILED");
    await confirmAll(kase.id, a);
    await confirmAll(kase.id, b.id);
    const counts = async () => (await api.gqlOk(hema, CASE, { id: kase.id })).case;
    expect(await counts()).toMatchObject({ cellCount: 7, failedImageCount: 1, differential: { total: 7 } });

    for (const slide of [b, c, d, e]) {
      const fresh = await api.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } });
      await api.gqlOk(hema, VOID, { ...loaded(fresh), reason: "smear of another patient" });
    }
    // The last image waiting for analysis was voided: the case goes to review.
    const view = await counts();
    expect(view).toMatchObject({ status: "IN_REVIEW", cellCount: 3, reviewedCount: 3, failedImageCount: 0, differential: { total: 3, unreviewed: 0 } });
    expect(view.cells.totalCount).toBe(3);
    expect(view.slides.filter((s: { voidedAt: string | null }) => s.voidedAt !== null)).toHaveLength(4);
    const progress = await api.gqlOk(hema, `query($id: ID!) { caseAnalysisProgress(caseId: $id) { slideCount } }`, { id: kase.id });
    expect(progress.caseAnalysisProgress.slideCount).toBe(1);

    // A voided image's cells are refused for review, in words, and nothing changes.
    const cCell = await api.prisma.cell.findFirstOrThrow({ where: { slideId: c.id, reviewCount: 0 } });
    const before = await databaseFingerprint(api.prisma);
    const refused = await api.gql(hema, CONFIRM, { cells: [{ cellId: cCell.id, expectedReviewCount: 0, expectedLabel: cCell.currentLabel, reason: "seen" }] });
    expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(refused.errors?.[0]?.message).toMatch(/image was voided \(smear of another patient\)/);
    const reclassify = await api.gql(hema, `mutation($i: ReclassifyCellInput!) { reclassifyCell(input: $i) { id } }`, {
      i: { cellId: cCell.id, expectedReviewCount: 0, expectedLabel: cCell.currentLabel, label: "lymphocyte", reason: "round nucleus" },
    });
    expect(reclassify.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // Neither C's undecided cells nor D's unfinished analysis hold up the sign-off; the signature
    // leaves the voided images' cells out and lists the images as voided.
    const signed = (
      await api.gqlOk(hema, SIGN, {
        input: { caseId: kase.id, login: hemaLogin, password: hemaPassword, meaning: "Reviewed and approved", seenCells: 3, seenDecisions: 3, seenCaseUpdatedAt: view.updatedAt },
      })
    ).signOffCase;
    expect(signed.content.schema).toBe("rcmnet.signed-report/10");
    expect(signed.content.cells).toHaveLength(3);
    expect(signed.content.differential.total).toBe(3);
    const listed = new Map(signed.content.slides.map((s: { id: string; voided: unknown }) => [s.id, s.voided]));
    expect(listed.size).toBe(5);
    for (const slide of [b, c, d, e]) expect(listed.get(slide.id)).toMatchObject({ byLogin: hemaLogin, reason: "smear of another patient" });
    expect([...listed.values()].filter((v) => v === null)).toHaveLength(1);
    const verified = await api.gqlOk(hema, `query($id: ID!) { verifySignOff(id: $id) { ok } }`, { id: signed.id });
    expect(verified.verifySignOff.ok).toBe(true);

    // Retraining takes the signed labels of A only, not B's (reviewed, then voided).
    const snapshot = await api.gqlOk(await api.loginAs("DATA_SCIENTIST"), `mutation { createDatasetSnapshot(name: "void test") { id itemCount } }`);
    const items = await api.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.createDatasetSnapshot.id }, include: { cell: true } });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.cell.slideId !== b.id && i.cell.slideId !== c.id)).toBe(true);
  });

  it("voiding the last image awaiting analysis moves the case to review in the voider's name, not as an analysis", async () => {
    const kase = await api.prisma.case.create({
      data: { accession: `VD-${randomBytes(4).toString("hex")}`, patientRef: "MRN-0002", status: "ANALYZING", createdById: techId },
    });
    const slide = await api.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: randomBytes(32).toString("hex"), mimeType: "image/png", byteSize: 1000, width: 500, height: 500, uploadedById: techId },
    });
    expect(slide.analysisStatus).toBe("PENDING");
    await api.gqlOk(tech, VOID, { ...loaded(slide), reason: "uploaded to the wrong case" });

    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
    // 21 CFR 11.10(e): the trail names who moved the case and why; nothing was analysed.
    const moved = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.status", entityId: kase.id } });
    expect(moved).toMatchObject({ actorId: techId, actorLogin: techLogin, after: { status: "IN_REVIEW" } });
    expect(moved.reason).toBe("the last image awaiting analysis was voided");
    expect(moved.reason).not.toMatch(/analysed/);
  });

  it("makes a snapshot taken before the void stale, so no run trains on a wrong patient's labels", async () => {
    const signed = await insertCaseWithCells(api.prisma, { createdById: techId, reviewerId: (await api.createUser("HEMATOLOGIST")).user.id, status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }, { reviews: ["lymphocyte"] }] });
    const ds = await api.loginAs("DATA_SCIENTIST");
    const { id: snapshotId } = (await api.gqlOk(ds, `mutation { createDatasetSnapshot(name: "before the void") { id } }`)).createDatasetSnapshot;
    const stale = async () =>
      (await api.gqlOk(ds, `{ datasetSnapshots(first: 50) { nodes { id relabelledSince } } }`)).datasetSnapshots.nodes.find((n: { id: string }) => n.id === snapshotId).relabelledSince;
    expect(await stale()).toBe(0);
    // An amendment reopens the case and the image is found to be another patient's.
    await api.prisma.case.update({ where: { id: signed.case.id }, data: { status: "IN_REVIEW" } });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: signed.slide.id } });
    await api.gqlOk(hema, VOID, { ...loaded(slide), reason: "smear of another patient" });
    expect(await stale()).toBe(2);
  });

  it("withholds the reason from roles that may not see patient references; in an amendment only a hematologist voids", async () => {
    const { kase, slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    await api.gqlOk(hema, VOID, { ...loaded(slide), reason: "belongs to MRN-4411" });
    const Q = `query($id: ID!) { case(id: $id) { slides { voidedAt voidReason } } }`;
    const reasonAs = async (token: string) => (await api.gqlOk(token, Q, { id: kase.id })).case.slides[0];
    expect(await reasonAs(await api.loginAs("AUDITOR"))).toMatchObject({ voidReason: "belongs to MRN-4411" });
    for (const role of ["ADMIN", "DATA_SCIENTIST"] as const) {
      expect(await reasonAs(await api.loginAs(role)), role).toMatchObject({ voidReason: null });
      expect((await reasonAs(await api.loginAs(role))).voidedAt).not.toBeNull();
    }
    const TRAIL = `{ auditTrail(first: 5, filter: { action: "slide.void", entityId: "${slideId}" }) { nodes { reason after } } }`;
    const [asAdmin] = (await api.gqlOk(await api.loginAs("ADMIN"), TRAIL)).auditTrail.nodes;
    expect(asAdmin.reason).toBeNull();
    expect(asAdmin.after.voidReason).toBeNull();
    const [asAuditor] = (await api.gqlOk(await api.loginAs("AUDITOR"), TRAIL)).auditTrail.nodes;
    expect(asAuditor.reason).toBe("belongs to MRN-4411");

    // A case reopened for amendment (signed as version 1): a technician's void is refused.
    const amended = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    await confirmAll(amended.kase.id);
    const seenNow = async () => ({ seenCaseUpdatedAt: (await api.prisma.case.findUniqueOrThrow({ where: { id: amended.kase.id } })).updatedAt.toISOString() });
    const v1 = (
      await api.gqlOk(hema, SIGN, { input: { caseId: amended.kase.id, login: hemaLogin, password: hemaPassword, meaning: "Reviewed and approved", seenCells: 1, seenDecisions: 1, ...(await seenNow()) } })
    ).signOffCase;
    await api.gqlOk(hema, `mutation($c: ID!) { amendCase(input: { caseId: $c, reason: "The smear is another patient's", expectedReportVersion: 1 }) { id } }`, { c: amended.kase.id });
    const other = await api.prisma.slide.findUniqueOrThrow({ where: { id: amended.slideId } });
    const before = await databaseFingerprint(api.prisma);
    const refused = await api.gql(tech, VOID, { ...loaded(other), reason: "wrong slide" });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toMatch(/being amended .* only a hematologist/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    await api.gqlOk(hema, VOID, { ...loaded(other), reason: "wrong slide" });

    // Its only image voided, the amendment has no cell to sign: an approval is refused, pointing
    // to the retraction, which closes it. Version 1 (the wrong patient's) is then superseded.
    const approval = await api.gql(hema, SIGN, {
      input: { caseId: amended.kase.id, password: hemaPassword, meaning: "Amended report: reviewed and approved", seenCells: 0, seenDecisions: 0, ...(await seenNow()) },
    });
    expect(approval.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(approval.errors?.[0]?.message).toMatch(/no cells to sign .* sign this amendment as "Amended report: retracted, no valid result"/);
    const retraction = (
      await api.gqlOk(hema, SIGN, {
        input: { caseId: amended.kase.id, password: hemaPassword, meaning: "Amended report: retracted, no valid result", seenCells: 0, seenDecisions: 0, ...(await seenNow()) },
      })
    ).signOffCase;
    expect(retraction.content).toMatchObject({ schema: "rcmnet.signed-report/10", version: 2, retracted: true, cells: [], supersedes: { id: v1.id, version: 1 } });
    expect(retraction.content.slides[0].voided).toMatchObject({ byLogin: hemaLogin, reason: "wrong slide" });
    expect((await api.gqlOk(hema, `query($id: ID!) { verifySignOff(id: $id) { ok } }`, { id: retraction.id })).verifySignOff.ok).toBe(true);
    expect(await api.prisma.case.findUniqueOrThrow({ where: { id: amended.kase.id } })).toMatchObject({ status: "AMENDED", reportVersion: 2 });
  });

  it("is final in the database: the void cannot be cleared or rewritten, nor made half, nor reviewed on", async () => {
    const { slideId, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 1 });
    const slide = await api.prisma.slide.findUniqueOrThrow({ where: { id: slideId } });
    // Half a void (no reason, or a blank one) is refused by the CHECK constraint.
    await expect(api.db.prisma.$executeRaw`UPDATE slide SET "voidedAt" = now() WHERE id = ${slideId}::uuid`).rejects.toThrow(/slide_void_complete/);
    await expect(
      api.db.prisma.$executeRaw`UPDATE slide SET "voidedAt" = now(), "voidedById" = ${techId}::uuid, "voidReason" = '  ' WHERE id = ${slideId}::uuid`,
    ).rejects.toThrow(/slide_void_complete/);
    await api.gqlOk(tech, VOID, { ...loaded(slide), reason: "wrong slide" });
    const before = await databaseFingerprint(api.prisma);
    // As the tables' owner (the platform's own role has no more rights than this).
    await expect(
      api.db.prisma.$executeRaw`UPDATE slide SET "voidedAt" = NULL, "voidedById" = NULL, "voidReason" = NULL WHERE id = ${slideId}::uuid`,
    ).rejects.toThrow(/voided slide .* refused: a void is final/);
    await expect(api.db.prisma.$executeRaw`UPDATE slide SET "voidReason" = 'something else' WHERE id = ${slideId}::uuid`).rejects.toThrow(/a void is final/);
    await expect(api.db.prisma.$executeRaw`UPDATE slide SET "analysisStatus" = 'FAILED' WHERE id = ${slideId}::uuid`).rejects.toThrow(/a void is final/);
    await expect(
      api.db.prisma.$executeRaw`INSERT INTO review (id, "cellId", seq, "reviewerId", action, label) VALUES (gen_random_uuid(), ${cellIds[0]!}::uuid, 1, ${techId}::uuid, 'CONFIRM', 'car_t')`,
    ).rejects.toThrow(/voided slide .* refused/);
    await expect(
      api.db.prisma.$executeRaw`INSERT INTO cell (id, "slideId", x, y, width, height, "cropSha256") VALUES (gen_random_uuid(), ${slideId}::uuid, 900, 900, 10, 10, 'x')`,
    ).rejects.toThrow(/voided slide .* refused/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });
});
