import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCaseForTest } from "@rcmnet/db/testing";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { ALL_ROLES, PATIENT_REF_READERS } from "../../auth/roles.ts";
import { confirmAsSeen, databaseFingerprint, FIXTURE_LABELS, seedReviewableCase } from "../../testing/fixtures.ts";
import { insertModelVersion } from "../../jobs/testing/fixtures.ts";
import { updateCase } from "./updateCase.ts";

let api: TestApi;
let tech: string;
beforeAll(async () => {
  api = await createTestApi();
  tech = await api.loginAs("TECHNICIAN");
});
afterAll(() => api?.close());

const CREATE = `mutation($i: CreateCaseInput!) { createCase(input: $i) { id accession status priority patientRef createdBy { role } } }`;
const AMEND = `mutation($input: AmendCaseInput!) { amendCase(input: $input) { id } }`;
const WORKLIST = `query($f: CaseFilter, $first: Int, $after: String) { cases(filter: $f, first: $first, after: $after) {
  nodes { accession priority } pageInfo { endCursor hasNextPage } } }`;

describe("cases", () => {
  it("creates a case (audited), refuses duplicate and malformed accessions", async () => {
    const r = await api.gqlOk(tech, CREATE, { i: { accession: "C-001", patientRef: "MRN-123", priority: "STAT" } });
    expect(r.createCase).toMatchObject({ accession: "C-001", status: "RECEIVED", priority: "STAT", patientRef: "MRN-123", createdBy: { role: "TECHNICIAN" } });
    expect(await api.prisma.auditEvent.count({ where: { action: "case.create", entityId: r.createCase.id } })).toBe(1);
    expect((await api.gql(tech, CREATE, { i: { accession: "C-001" } })).errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect((await api.gql(tech, CREATE, { i: { accession: "John Smith" } })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("records the specimen, when it was drawn and its white-cell count; refuses impossible ones, storing nothing", async () => {
    const SPECIMEN = `mutation($i: CreateCaseInput!) { createCase(input: $i) { id specimen collectedAt wbcCount } }`;
    const i = { accession: "C-SPEC", specimen: "peripheral blood", collectedAt: "2026-11-20T08:30:00Z", wbcCount: 4.2 };
    const r = await api.gqlOk(tech, SPECIMEN, { i });
    expect(r.createCase).toMatchObject({ specimen: "peripheral blood", collectedAt: "2026-11-20T08:30:00.000Z", wbcCount: 4.2 });
    const before = await api.prisma.case.count();
    for (const [bad, message] of [
      [{ wbcCount: 0 }, /wbcCount must be above 0/],
      [{ wbcCount: -3 }, /wbcCount must be above 0/],
      [{ wbcCount: 4200 }, /at most 1,000/],
      [{ collectedAt: "2099-01-01T00:00:00Z" }, /collectedAt is in the future/],
      [{ collectedAt: "yesterday" }, /Invalid DateTime/],
      // Without a zone it would be read in the server's; "5" would be a date in 2001.
      [{ collectedAt: "2026-11-20T08:30" }, /ISO-8601 with a zone/],
      [{ collectedAt: "5" }, /Invalid DateTime/],
      // A date the calendar does not have would be read as another (3 March) and signed.
      [{ collectedAt: "2026-02-31T08:00:00Z" }, /Invalid DateTime/],
      [{ collectedAt: "2026-11-20T24:30:00Z" }, /Invalid DateTime/],
      [{ collectedAt: "1926-11-20T08:30:00Z" }, /before 2000/],
      [{ specimen: "x".repeat(51) }, /specimen/],
    ] as const) {
      const refused = await api.gql(tech, SPECIMEN, { i: { accession: `C-BAD-${before}`, ...bad } });
      expect(refused.errors?.[0]?.extensions?.code, JSON.stringify(bad)).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(refused.errors), JSON.stringify(bad)).toMatch(message);
    }
    expect(await api.prisma.case.count()).toBe(before);
    // The database refuses an impossible count written around the API too.
    await expect(api.prisma.case.update({ where: { id: r.createCase.id }, data: { wbcCount: 0 } })).rejects.toThrow(/case_wbc_count_range/);
  });

  it("refuses an edit made on details loaded before someone else's change, changing nothing", async () => {
    const UPDATE = `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { id wbcCount updatedAt } }`;
    const created = await api.prisma.case.create({ data: { accession: "C-STALE", createdById: (await api.prisma.user.findFirstOrThrow()).id } });
    const loaded = created.updatedAt.toISOString();
    const a = await api.gqlOk(tech, UPDATE, { i: { id: created.id, wbcCount: 4.2, expectedUpdatedAt: loaded, reason: "count from the analyser" } });
    const stale = await api.gql(tech, UPDATE, { i: { id: created.id, wbcCount: 9.9, expectedUpdatedAt: loaded, reason: "an older form" } });
    expect(stale.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(stale.errors?.[0]?.message).toMatch(/changed by someone else/);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: created.id } })).wbcCount).toBe(4.2);
    // From the fresh state it goes through.
    await api.gqlOk(tech, UPDATE, { i: { id: created.id, wbcCount: 5, expectedUpdatedAt: a.updateCase.updatedAt, reason: "recount" } });
  });

  it("refuses an edit that does not say which version of the details it was made on (expectedUpdatedAt), changing nothing", async () => {
    const UPDATE = `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { id wbcCount } }`;
    const author = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const created = await api.prisma.case.create({ data: { accession: "C-BLIND", wbcCount: 3.1, createdById: author.id } });
    const before = await databaseFingerprint(api.prisma);
    for (const expectedUpdatedAt of [undefined, null]) {
      const blind = await api.gql(tech, UPDATE, { i: { id: created.id, wbcCount: 9.9, reason: "last writer wins", ...(expectedUpdatedAt === undefined ? {} : { expectedUpdatedAt }) } });
      expect(blind.errors?.[0]?.extensions?.code, String(expectedUpdatedAt)).toBe("BAD_USER_INPUT");
      expect(blind.errors?.[0]?.message).toMatch(/expectedUpdatedAt/);
    }
    // Called around GraphQL (another entry point), the validation says why.
    await expect(updateCase(api.prisma, { id: author.id, login: author.login, displayName: author.displayName, role: "TECHNICIAN" }, { id: created.id, wbcCount: 9.9, reason: "last writer wins" })).rejects.toThrow(
      /expectedUpdatedAt \(the case's updatedAt as you loaded it\) is required/,
    );
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: created.id } })).wbcCount).toBe(3.1);
  });

  it("stores a blank patient reference as none, so blank cases are never one patient", async () => {
    const r = await api.gqlOk(tech, CREATE, { i: { accession: "C-BLANK", patientRef: "   " } });
    expect(r.createCase.patientRef).toBeNull();
    expect((await api.prisma.case.findUniqueOrThrow({ where: { id: r.createCase.id } })).patientRef).toBeNull();
  });

  it("hides the patient reference and the collection time from roles that do not need them", async () => {
    const r = await api.gqlOk(tech, CREATE, { i: { accession: "C-PR", patientRef: "MRN-999", collectedAt: "2026-11-20T08:30:00Z" } });
    for (const [role, visible] of [["DATA_SCIENTIST", false], ["ADMIN", false], ["AUDITOR", true], ["HEMATOLOGIST", true]] as const) {
      const d = await api.gqlOk(await api.loginAs(role), `query($id: ID!) { case(id: $id) { patientRef collectedAt } }`, { id: r.createCase.id });
      expect(d.case.patientRef, role).toBe(visible ? "MRN-999" : null);
      expect(d.case.collectedAt, role).toBe(visible ? "2026-11-20T08:30:00.000Z" : null);
    }
    // The trail too: the case's creation as an administrator reads it.
    const event = await api.gqlOk(await api.loginAs("ADMIN"), `query($f: AuditFilter) { auditTrail(filter: $f, first: 1) { nodes { after } } }`, { f: { entityId: r.createCase.id, action: "case.create" } });
    expect(event.auditTrail.nodes[0].after).toMatchObject({ patientRef: null, collectedAt: null, accession: "C-PR" });
  });

  it("names the model of each prediction for every case reader, and no more of the model than that", async () => {
    const techUser = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const { kase, model } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 2 });
    const q = `query($id: ID!) { case(id: $id) { cells(first: 2) { nodes { prediction { modelVersionId modelVersion { id name version } } } } } }`;
    for (const role of ALL_ROLES) {
      const d = await api.gqlOk(await api.loginAs(role), q, { id: kase.id });
      expect(d.case.cells.nodes[0].prediction, role).toEqual({ modelVersionId: model.id, modelVersion: { id: model.id, name: model.name, version: model.version } });
    }
    // A narrow type, not ModelVersion: metrics and promotions stay behind Query.modelVersion's policy.
    const leak = await api.gql(await api.loginAs("HEMATOLOGIST"), `query($id: ID!) { case(id: $id) { cells(first: 1) { nodes { prediction { modelVersion { metrics } } } } } }`, { id: kase.id });
    expect(leak.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(leak.data ?? null).toBeNull();
  });

  it("says who opened the amendment now open, when and why; the reason only to roles that may see patient references", async () => {
    const techUser = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const { kase } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 1 });
    // As if signed (version 1, a stub signature): the amendment's own rules are signoff's tests.
    await signCaseForTest(api.prisma, kase.id);
    const q = `query($id: ID!) { case(id: $id) { status amendmentStartedAt amendmentStartedBy { login displayName } amendmentReason } }`;
    const none = { amendmentStartedAt: null, amendmentStartedBy: null, amendmentReason: null };
    // Dr A opens the amendment; Dr B, who finishes and signs it, reads why.
    const a = await api.createUser("HEMATOLOGIST", { displayName: "Dr A" });
    const drA = await api.login(a.user.login, a.password);
    const drB = await api.loginAs("HEMATOLOGIST");
    expect((await api.gqlOk(drB, q, { id: kase.id })).case).toEqual({ status: "SIGNED_OUT", ...none });
    await api.gqlOk(drA, AMEND, { input: { caseId: kase.id, reason: "cell 12 is a blast (MRN-0001)", expectedReportVersion: 1 } });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: kase.id, action: "case.amend" } });
    const opened = { amendmentStartedAt: event.at.toISOString(), amendmentStartedBy: { login: a.user.login, displayName: "Dr A" } };
    expect((await api.gqlOk(drB, q, { id: kase.id })).case).toEqual({ status: "IN_REVIEW", ...opened, amendmentReason: "cell 12 is a blast (MRN-0001)" });
    // When and by whom for every case reader; the free-text reason, which may name a patient, as patientRef is.
    for (const role of ALL_ROLES) {
      const visible = PATIENT_REF_READERS.includes(role);
      expect((await api.gqlOk(await api.loginAs(role), q, { id: kase.id })).case, role).toEqual({
        status: "IN_REVIEW",
        ...opened,
        amendmentReason: visible ? "cell 12 is a blast (MRN-0001)" : null,
      });
    }
    // Signed again (version 2), nothing is open; a second amendment shows its own reason, not the first's.
    await signCaseForTest(api.prisma, kase.id);
    expect((await api.gqlOk(drB, q, { id: kase.id })).case).toEqual({ status: "AMENDED", ...none });
    await api.gqlOk(drB, AMEND, { input: { caseId: kase.id, reason: "WBC count was mistyped", expectedReportVersion: 2 } });
    const second = await api.gqlOk(drB, q, { id: kase.id });
    expect(second.case).toMatchObject({ amendmentReason: "WBC count was mistyped", amendmentStartedBy: { login: (await api.gqlOk(drB, "{ me { login } }")).me.login } });
    expect(second.case.amendmentStartedAt > opened.amendmentStartedAt).toBe(true);
  });

  it("reports an amendment as open while an image uploaded into it is analysed; a second amendment is refused, changing nothing", async () => {
    const techUser = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const { kase } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 1 });
    await signCaseForTest(api.prisma, kase.id);
    const hema = await api.loginAs("HEMATOLOGIST");
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "a better field was scanned", expectedReportVersion: 1 } });
    // The state an upload into the amendment leaves the case in (uploadSlides) until the analysis ends.
    await api.prisma.case.update({ where: { id: kase.id }, data: { status: "ANALYZING" } });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: kase.id, action: "case.amend" } });
    const q = `query($id: ID!) { case(id: $id) { status reportVersion amendmentStartedAt amendmentReason } }`;
    expect((await api.gqlOk(hema, q, { id: kase.id })).case).toEqual({
      status: "ANALYZING",
      reportVersion: 1,
      amendmentStartedAt: event.at.toISOString(),
      amendmentReason: "a better field was scanned",
    });
    // The amendment is open, not "not signed": the refusal says to continue it, and nothing is written.
    const before = await databaseFingerprint(api.prisma);
    const again = await api.gql(hema, AMEND, { input: { caseId: kase.id, reason: "start over", expectedReportVersion: 1 } });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(again.errors?.[0]?.message).toMatch(/already being amended \(version 2, status ANALYZING\): continue that amendment/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // A case never signed, analysed for its first report, has no amendment.
    const { kase: first } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 1, status: "ANALYZING" });
    expect((await api.gqlOk(hema, q, { id: first.id })).case).toMatchObject({ amendmentStartedAt: null, amendmentReason: null });
  });

  it("says whether the model of each prediction is the champion now", async () => {
    const techUser = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const { kase: byChampion } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 3 });
    const withdrawn = await insertModelVersion(api.prisma, { status: "ARCHIVED", labels: FIXTURE_LABELS });
    const { kase: byWithdrawn } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 3, model: withdrawn });
    const q = `query($id: ID!) { case(id: $id) { cells(first: 3) { nodes { prediction { modelVersion { id isChampion } } } } } }`;
    const hema = await api.loginAs("HEMATOLOGIST");
    const champ = await api.gqlOk(hema, q, { id: byChampion.id });
    expect(champ.case.cells.nodes.map((n: { prediction: { modelVersion: { isChampion: boolean } } }) => n.prediction.modelVersion.isChampion)).toEqual([true, true, true]);
    const old = await api.gqlOk(hema, q, { id: byWithdrawn.id });
    expect(old.case.cells.nodes.map((n: { prediction: { modelVersion: { id: string; isChampion: boolean } } }) => n.prediction.modelVersion)).toEqual(
      Array(3).fill({ id: withdrawn.id, isChampion: false }),
    );
    // A rollback reaches the open case on its next read: nothing about the prediction is stored.
    const fixture = await api.prisma.modelVersion.findFirstOrThrow({ where: { name: "fixture" } });
    await api.prisma.modelVersion.update({ where: { id: fixture.id }, data: { status: "ARCHIVED" } });
    await api.prisma.modelVersion.update({ where: { id: withdrawn.id }, data: { status: "CHAMPION" } });
    try {
      const now = await api.gqlOk(hema, q, { id: byChampion.id });
      expect(now.case.cells.nodes[0].prediction.modelVersion.isChampion).toBe(false);
      expect((await api.gqlOk(hema, q, { id: byWithdrawn.id })).case.cells.nodes[0].prediction.modelVersion.isChampion).toBe(true);
    } finally {
      await api.prisma.modelVersion.update({ where: { id: withdrawn.id }, data: { status: "ARCHIVED" } });
      await api.prisma.modelVersion.update({ where: { id: fixture.id }, data: { status: "CHAMPION" } });
    }
    // Withdrawn only by an approved rollback, not by being succeeded.
    const wq = `query($id: ID!) { case(id: $id) { cells(first: 1) { nodes { prediction { modelVersion { withdrawn } } } } } }`;
    const withdrawnNow = async () => (await api.gqlOk(hema, wq, { id: byWithdrawn.id })).case.cells.nodes[0].prediction.modelVersion.withdrawn;
    expect(await withdrawnNow()).toBe(false);
    await api.prisma.modelPromotion.create({
      data: { modelVersionId: fixture.id, kind: "ROLLBACK", state: "APPROVED", reason: "misses blasts", proposedById: techUser.id, replacesChampionId: withdrawn.id, decidedById: techUser.id, decidedAt: new Date() },
    });
    expect(await withdrawnNow()).toBe(true);
    expect((await api.gqlOk(hema, wq, { id: byChampion.id })).case.cells.nodes[0].prediction.modelVersion.withdrawn).toBe(false);
    // Rolled back to later, then succeeded by a promotion: the last replacement decides, not withdrawn.
    await api.prisma.modelPromotion.create({
      data: { modelVersionId: fixture.id, kind: "PROMOTE", state: "APPROVED", reason: "better again", proposedById: techUser.id, replacesChampionId: withdrawn.id, decidedById: techUser.id, decidedAt: new Date(Date.now() + 60_000) },
    });
    expect(await withdrawnNow()).toBe(false);
  });

  it("updates details with a reason while not signed", async () => {
    const r = await api.gqlOk(tech, CREATE, { i: { accession: "C-UPD" } });
    const loaded = (await api.prisma.case.findUniqueOrThrow({ where: { id: r.createCase.id } })).updatedAt.toISOString();
    const u = await api.gqlOk(tech, `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { priority product } }`, { i: { id: r.createCase.id, priority: "URGENT", product: "tisagenlecleucel", expectedUpdatedAt: loaded, reason: "clinician request" } });
    expect(u.updateCase).toEqual({ priority: "URGENT", product: "tisagenlecleucel" });
    const e = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.update", entityId: r.createCase.id } });
    expect(e).toMatchObject({ reason: "clinician request", before: expect.objectContaining({ priority: "ROUTINE" }), after: expect.objectContaining({ priority: "URGENT" }) });
  });

  it("lets only a hematologist change the details of a case being amended: a technician's edit is refused, changing nothing", async () => {
    const techUser = await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } });
    const { kase } = await seedReviewableCase(api.prisma, { createdById: techUser.id, cells: 1 });
    await signCaseForTest(api.prisma, kase.id);
    const hema = await api.loginAs("HEMATOLOGIST");
    await api.gqlOk(hema, AMEND, { input: { caseId: kase.id, reason: "WBC count was mistyped", expectedReportVersion: 1 } });
    const UPDATE = `mutation($i: UpdateCaseInput!) { updateCase(input: $i) { patientRef wbcCount } }`;
    const loaded = async () => (await api.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).updatedAt.toISOString();
    const before = await databaseFingerprint(api.prisma);
    const refused = await api.gql(tech, UPDATE, { i: { id: kase.id, patientRef: "MRN-9999", expectedUpdatedAt: await loaded(), reason: "moved to another patient" } });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toMatch(/being amended \(signed as version 1\): only a hematologist may change its details/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // The hematologist, who signs the correction, makes it (audited as any edit).
    const edited = await api.gqlOk(hema, UPDATE, { i: { id: kase.id, wbcCount: 6.2, expectedUpdatedAt: await loaded(), reason: "WBC from the analyser printout" } });
    expect(edited.updateCase.wbcCount).toBe(6.2);
  });

  it("pages through the worklist: STAT, then URGENT, then ROUTINE, no duplicates or gaps", async () => {
    const token = await api.loginAs("HEMATOLOGIST");
    for (const [i, p] of (["ROUTINE", "STAT", "URGENT", "ROUTINE", "STAT", "ROUTINE", "URGENT"] as const).entries()) {
      await api.gqlOk(tech, CREATE, { i: { accession: `WL-${i}`, priority: p } });
    }
    const seen: { accession: string; priority: string }[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: any = await api.gqlOk(token, WORKLIST, { f: { accession: "WL-" }, first: 3, after });
      seen.push(...r.cases.nodes);
      if (!r.cases.pageInfo.hasNextPage) break;
      after = r.cases.pageInfo.endCursor;
    }
    expect(seen.map((c) => c.accession)).toEqual(["WL-1", "WL-4", "WL-2", "WL-6", "WL-0", "WL-3", "WL-5"]);
    const stat = await api.gqlOk(token, WORKLIST, { f: { accession: "WL-", priority: ["STAT"] } });
    expect(stat.cases.nodes).toHaveLength(2);
    expect((await api.gql(token, WORKLIST, { first: 201 })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect((await api.gql(token, WORKLIST, { after: "%%%" })).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("filters by accession prefix literally: _ and % are characters of an accession, not wildcards", async () => {
    const token = await api.loginAs("HEMATOLOGIST");
    for (const accession of ["LIT_1", "LITX1"]) await api.gqlOk(tech, CREATE, { i: { accession } });
    const LIST = `query($f: CaseFilter) { cases(filter: $f, first: 50) { nodes { accession } } }`;
    const found = async (prefix: string) =>
      ((await api.gqlOk(token, LIST, { f: { accession: prefix } })).cases.nodes as { accession: string }[]).map((c) => c.accession).sort();
    expect(await found("LIT_")).toEqual(["LIT_1"]);
    expect(await found("LIT")).toEqual(["LITX1", "LIT_1"].sort());
    // No accession holds a %: a filter of one finds nothing, rather than every case.
    expect(await found("%")).toEqual([]);
  });

  it("counts cases per status over all matching cases, not one page", async () => {
    const token = await api.loginAs("HEMATOLOGIST");
    for (let i = 0; i < 4; i++) await api.gqlOk(tech, CREATE, { i: { accession: `CNT-${i}`, priority: i < 3 ? "STAT" : "ROUTINE" } });
    const COUNTS = `query($f: CaseFilter) { caseStatusCounts(filter: $f) { status count } }`;
    const all: any = await api.gqlOk(token, COUNTS, { f: { accession: "CNT-" } });
    expect(all.caseStatusCounts).toEqual([
      { status: "RECEIVED", count: 4 }, { status: "ANALYZING", count: 0 }, { status: "IN_REVIEW", count: 0 },
      { status: "SIGNED_OUT", count: 0 }, { status: "AMENDED", count: 0 },
    ]);
    // A status filter does not hide the other statuses' counts; priority narrows them.
    const stat: any = await api.gqlOk(token, COUNTS, { f: { accession: "CNT-", priority: ["STAT"], status: ["IN_REVIEW"] } });
    expect(stat.caseStatusCounts[0]).toEqual({ status: "RECEIVED", count: 3 });
    expect((await api.gql(null, COUNTS, {})).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("pages through the cells of a case and filters those needing review", async () => {
    const techId = (await api.prisma.user.findFirstOrThrow({ where: { role: "TECHNICIAN" } })).id;
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 25 });
    const hema = await api.loginAs("HEMATOLOGIST");
    await api.gqlOk(hema, `mutation($c: [ConfirmCellInput!]!) { confirmCells(cells: $c) { id } }`, { c: await confirmAsSeen(api.prisma, await notCarT(cellIds, 5)) });
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await api.gqlOk(hema, `query($id: ID!, $a: String) { case(id: $id) { cells(first: 10, after: $a) { totalCount nodes { id } pageInfo { endCursor hasNextPage } } } }`, { id: kase.id, a: after });
      expect(r.case.cells.totalCount).toBe(25);
      ids.push(...r.case.cells.nodes.map((n: { id: string }) => n.id));
      if (!r.case.cells.pageInfo.hasNextPage) break;
      after = r.case.cells.pageInfo.endCursor;
    }
    expect(new Set(ids)).toEqual(new Set(cellIds));
    const pending = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { cells(needsReview: true) { totalCount } } }`, { id: kase.id });
    expect(pending.case.cells.totalCount).toBe(20);
  });
});

/** The first `n` of these cells whose label is not a CAR-T call: CAR-T calls are never confirmed in bulk. */
async function notCarT(cellIds: string[], n: number): Promise<string[]> {
  const cells = await api.prisma.cell.findMany({ where: { id: { in: cellIds } }, select: { id: true, currentLabel: true } });
  const label = new Map(cells.map((c) => [c.id, c.currentLabel]));
  return cellIds.filter((id) => label.get(id) !== "car_t").slice(0, n);
}
