// Dataset snapshots: only signed-out human labels, frozen, deterministic, with a locked TEST part;
// training runs: queued with a validated recipe, cancellable. Through the GraphQL API.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import type { Role } from "@rcmnet/db";
import { signCaseForTest } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { insertCaseWithCells, insertModelVersion } from "../../jobs/testing/fixtures.ts";
import { reconcileTrainingRuns } from "../../jobs/reconcileTrainingRuns.ts";
import { confirmAsSeen, seedReviewableCase } from "../../testing/fixtures.ts";
import { bulkConfirmedTestCells } from "./bulkConfirmed.ts";

let api: TestApi;
let tokens: Record<Role, string>;

beforeAll(async () => {
  api = await createTestApi();
  tokens = await api.loginAsEveryRole();
});
afterAll(async () => {
  await api?.close();
});

const CREATE = `mutation($name: String!) {
  createDatasetSnapshot(name: $name) { id name labels itemCount contentHash splitCounts { train val test } patientCounts { train val test } heldOutCells casesWithoutPatient casesLeftOutWithoutPatient cellsLeftOutWithoutPatient labelCounts createdBy { login } reused }
}`;
const START = `mutation($snapshotId: ID!, $config: JSON, $base: ID) {
  startTrainingRun(snapshotId: $snapshotId, config: $config, baseModelVersionId: $base) { id status config progress snapshot { id } }
}`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelTrainingRun(id: $id, reason: $reason) { id status cancelRequested } }`;

const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

async function trainingState() {
  const [snapshots, items, runs, jobs, audit] = await Promise.all([
    api.prisma.datasetSnapshot.count(),
    api.prisma.datasetItem.count(),
    api.prisma.trainingRun.findMany({ orderBy: { id: "asc" } }),
    api.prisma.job.findMany({ orderBy: { id: "asc" } }),
    api.prisma.auditEvent.count(),
  ]);
  return { snapshots, items, runs, jobs, audit };
}

/**
 * A snapshot from which every class can be learned: six patients, each with cells of every class,
 * so that the TRAIN part (a patient's cells share a part) holds each class.
 */
async function trainableSnapshot(name: string, on: TestApi = api, dsToken = tokens.DATA_SCIENTIST) {
  const tech = await on.createUser("TECHNICIAN");
  const hema = await on.createUser("HEMATOLOGIST");
  for (let p = 0; p < 6; p++) {
    await insertCaseWithCells(on.prisma, {
      createdById: tech.user.id,
      reviewerId: hema.user.id,
      status: "SIGNED_OUT",
      patientRef: `MRN-TRAINABLE-${name}-${p}`,
      cells: ["car_t", "lymphocyte", "neutrophil"].map((l) => ({ reviews: [l] })),
    });
  }
  const snapshot = (await on.gqlOk(dsToken, CREATE, { name })).createDatasetSnapshot;
  const trained = await on.prisma.datasetItem.groupBy({ by: ["label"], where: { snapshotId: snapshot.id, split: "TRAIN" } });
  expect(trained.map((t) => t.label)).toEqual(expect.arrayContaining(["car_t", "lymphocyte", "neutrophil"]));
  return snapshot as { id: string };
}

describe("dataset snapshots", () => {
  it("refuses to snapshot when nothing is signed out yet", async () => {
    const before = await trainingState();
    const r = await api.gql(tokens.DATA_SCIENTIST, CREATE, { name: "empty" });
    expect(codeOf(r)).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toMatch(/No signed-out human labels/);
    expect(await trainingState()).toEqual(before);
  });

  it("freezes the latest human label of signed-out cells, deterministically, with a locked TEST part", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const base = { createdById: tech.user.id, reviewerId: hema.user.id };
    // A case without a patient study id may be any patient's (a follow-up smear entered without
    // it): left out of every snapshot, counted. Alone, there is nothing to snapshot.
    const patientless = await insertCaseWithCells(api.prisma, { ...base, patientRef: null, status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }, { reviews: ["neutrophil"] }] });
    const nothing = await trainingState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, CREATE, { name: "patientless only" });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0]?.message).toMatch(/^Every signed-out label is in a case without a patient study id: .*left out of snapshots\. Enter the cases' patient study ids/);
    expect(await trainingState()).toEqual(nothing);
    const labels = ["car_t", "lymphocyte", "neutrophil"];
    const signed = await insertCaseWithCells(api.prisma, {
      ...base,
      patientRef: "MRN-W47-1",
      status: "SIGNED_OUT",
      cells: [
        ...Array.from({ length: 30 }, (_, i) => ({ reviews: [labels[i % 3]!] })),
        { reviews: ["car_t", "lymphocyte"] }, // reclassified: the latest label counts
        { reviews: ["car_t", "unidentified"] }, // no class: excluded
        { reviews: ["artifact"] }, // excluded
        // A hematologist's blast: a class no model has, too rare to train on yet (NON_CLASS_LABELS).
        { reviews: ["car_t", "blast"] },
        {}, // never reviewed: excluded (AI predictions are never labels)
      ],
    });
    const amended = await insertCaseWithCells(api.prisma, {
      ...base,
      patientRef: "MRN-W47-2",
      status: "AMENDED",
      cells: [{ reviews: ["neutrophil"] }],
    });
    // Not signed out: excluded.
    await insertCaseWithCells(api.prisma, { ...base, status: "IN_REVIEW", cells: [{ reviews: ["car_t"] }] });

    const first = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "  week 47 " }))
      .createDatasetSnapshot;
    expect(first).toMatchObject({ name: "week 47", labels, itemCount: 32, reused: false });
    expect(first.splitCounts.train + first.splitCounts.val + first.splitCounts.test).toBe(32);
    const items = await api.prisma.datasetItem.findMany({ where: { snapshotId: first.id } });
    const byCell = new Map(items.map((i) => [i.cellId, i]));
    expect(byCell.get(signed.cells[30]!.id)?.label).toBe("lymphocyte");
    for (const excluded of signed.cells.slice(31)) expect(byCell.has(excluded.id)).toBe(false);
    expect(byCell.get(amended.cells[0]!.id)?.label).toBe("neutrophil");
    for (const item of items) expect(item.cropSha256).toMatch(/^[0-9a-f]{64}$/);
    // Two new patients: the first placed goes to TRAIN, the second to the empty TEST part.
    expect(new Set(items.map((i) => i.split))).toEqual(new Set(["TRAIN", "TEST"]));
    expect(first.patientCounts).toEqual({ train: 1, val: 0, test: 1 });
    // The case without a patient study id is in no part, and counted as left out.
    for (const cell of patientless.cells) expect(byCell.has(cell.id)).toBe(false);
    expect(first).toMatchObject({ heldOutCells: 0, casesWithoutPatient: 0, casesLeftOutWithoutPatient: 1, cellsLeftOutWithoutPatient: 2 });

    // Same data, same content and split: the newest snapshot is answered again, marked reused,
    // and nothing is written (no copy, no audit event).
    const unchanged = await trainingState();
    const second = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "again" })).createDatasetSnapshot;
    expect(second).toEqual({ ...first, reused: true });
    expect(await trainingState()).toEqual(unchanged);

    // Frozen: the database refuses to change a snapshot's rows.
    await expect(
      api.prisma.datasetItem.update({ where: { id: items[0]!.id }, data: { label: "monocyte" } }),
    ).rejects.toThrow();
    expect(await api.prisma.auditEvent.count({ where: { action: "datasetSnapshot.create" } })).toBe(1);

    // A label signed since: a new snapshot is taken.
    await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-W47-1", status: "SIGNED_OUT", cells: [{ reviews: ["car_t"] }] });
    const third = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "again" })).createDatasetSnapshot;
    expect(third).toMatchObject({ name: "again", itemCount: 33, reused: false });
    expect(third.id).not.toBe(first.id);
    expect(third.contentHash).not.toBe(first.contentHash);
    expect(await api.prisma.auditEvent.count({ where: { action: "datasetSnapshot.create" } })).toBe(2);
  });

  it("splits by patient: a patient's cases share a part, later ones join it, and every part fills", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const base = { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT" as const };
    const cells = (n: number) => Array.from({ length: n }, () => ({ reviews: ["lymphocyte"] }));
    const first = [
      await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-P1", cells: cells(6) }),
      await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-P1", cells: cells(4) }),
      await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-P2", cells: cells(5) }),
      await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-P3", cells: cells(5) }),
    ];
    const snap = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "by patient" })).createDatasetSnapshot;
    const parts = async (snapshotId: string, kase: { cells: { id: string }[] }) =>
      new Set(
        (await api.prisma.datasetItem.findMany({ where: { snapshotId, cellId: { in: kase.cells.map((c) => c.id) } } })).map((i) => i.split),
      );
    const p1 = await parts(snap.id, first[0]!);
    expect(p1.size).toBe(1);
    expect(await parts(snap.id, first[1]!)).toEqual(p1);
    // With the earlier tests' cases there are at least five patients: every part has one.
    expect(snap.patientCounts.train).toBeGreaterThan(0);
    expect(snap.patientCounts.val).toBeGreaterThan(0);
    expect(snap.patientCounts.test).toBeGreaterThan(0);
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: snap.id, action: "datasetSnapshot.create" } });
    expect((audit.after as { patients: Record<string, number> }).patients).toEqual(snap.patientCounts);
    // Nothing identifying a patient is written to the audit trail.
    expect(JSON.stringify(audit.after)).not.toContain("MRN-");

    // A later case of patient 1 joins patient 1's part; earlier cells keep theirs.
    const later = await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-P1", cells: cells(3) });
    const next = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "by patient, later" })).createDatasetSnapshot;
    expect(await parts(next.id, later)).toEqual(p1);
    for (const kase of first) expect(await parts(next.id, kase)).toEqual(await parts(snap.id, kase));
  });

  it("keeps a patient's part while its earlier case is out for amendment, freezes the counts, folds blank and case", async () => {
    const tech = await api.createUser("TECHNICIAN");
    const hema = await api.createUser("HEMATOLOGIST");
    const base = { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT" as const };
    const cells = (n: number) => Array.from({ length: n }, () => ({ reviews: ["neutrophil"] }));
    const itemsOf = async (snapshotId: string, kase: { cells: { id: string }[] }) =>
      api.prisma.datasetItem.findMany({ where: { snapshotId, cellId: { in: kase.cells.map((c) => c.id) } } });
    // Patient Q's first case lands in some part; then that case is reopened (IN_REVIEW: out of
    // every snapshot) and Q's second case is signed. It must join Q's part, not the emptiest.
    const q1 = await insertCaseWithCells(api.prisma, { ...base, patientRef: "mrn-q ", cells: cells(5) });
    const s1 = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "q1" })).createDatasetSnapshot;
    const qPart = (await itemsOf(s1.id, q1))[0]!.split;
    await api.prisma.case.update({ where: { id: q1.case.id }, data: { status: "IN_REVIEW" } });
    // Same patient written another way (case and spaces): one patient.
    const q2 = await insertCaseWithCells(api.prisma, { ...base, patientRef: "MRN-Q", cells: cells(30) });
    const s2 = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "q2" })).createDatasetSnapshot;
    expect(await itemsOf(s2.id, q1)).toHaveLength(0);
    expect(new Set((await itemsOf(s2.id, q2)).map((i) => i.split))).toEqual(new Set([qPart]));

    // Frozen counts: relinking a case to another patient later (an amendment reopens it first)
    // leaves s2's figures as they were.
    await api.prisma.case.update({ where: { id: q2.case.id }, data: { status: "IN_REVIEW" } });
    await api.prisma.case.update({ where: { id: q2.case.id }, data: { patientRef: "MRN-OTHER" } });
    const again = await api.gqlOk(tokens.DATA_SCIENTIST, `query($id: ID!) { datasetSnapshot(id: $id) { patientCounts { train val test } } }`, { id: s2.id });
    expect(again.datasetSnapshot.patientCounts).toEqual(s2.patientCounts);
  });

  it("keeps a cell that was ever in TEST in TEST", async () => {
    const snapshot = await api.prisma.datasetSnapshot.findFirstOrThrow({ orderBy: { createdAt: "asc" } });
    const train = await api.prisma.datasetItem.findFirstOrThrow({
      where: { snapshotId: snapshot.id, split: "TRAIN" },
    });
    // A (hypothetical) earlier snapshot, under another split rule, tested on this cell.
    const legacy = await api.prisma.datasetSnapshot.create({
      data: {
        name: "legacy",
        labels: [train.label],
        itemCount: 1,
        contentHash: "x",
        createdById: snapshot.createdById,
      },
    });
    await api.prisma.datasetItem.create({
      data: {
        snapshotId: legacy.id,
        cellId: train.cellId,
        label: train.label,
        split: "TEST",
        cropSha256: train.cropSha256,
      },
    });
    const next = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "after legacy" }))
      .createDatasetSnapshot;
    const item = await api.prisma.datasetItem.findFirstOrThrow({
      where: { snapshotId: next.id, cellId: train.cellId },
    });
    expect(item.split).toBe("TEST");
  });

  it("refuses wrong roles and bad names without writing anything", async () => {
    for (const role of ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "AUDITOR"] as Role[]) {
      const before = await trainingState();
      expect(codeOf(await api.gql(tokens[role], CREATE, { name: "x" })), role).toBe("FORBIDDEN");
      expect(await trainingState()).toEqual(before);
    }
    for (const name of ["", "   ", "x".repeat(121)]) {
      const before = await trainingState();
      expect(codeOf(await api.gql(tokens.DATA_SCIENTIST, CREATE, { name }))).toBe("BAD_USER_INPUT");
      expect(await trainingState()).toEqual(before);
    }
    expect(codeOf(await api.gql(null, CREATE, { name: "x" }))).toBe("UNAUTHENTICATED");
  });

  it("lists snapshots for readers only", async () => {
    const LIST = `{ datasetSnapshots(first: 2) { nodes { id itemCount splitCounts { test } } pageInfo { hasNextPage } } }`;
    for (const role of ["DATA_SCIENTIST", "ADMIN", "AUDITOR"] as Role[]) {
      const data = await api.gqlOk(tokens[role], LIST);
      expect(data.datasetSnapshots.nodes).toHaveLength(2);
      expect(data.datasetSnapshots.pageInfo.hasNextPage).toBe(true);
    }
    for (const role of ["HEMATOLOGIST", "TECHNICIAN"] as Role[]) {
      expect(codeOf(await api.gql(tokens[role], LIST))).toBe("FORBIDDEN");
    }
  });
});

describe("bulk-confirmed labels in a snapshot", () => {
  it("freezes whether each label's latest review was a bulk confirmation: not once a reclassification or a second look alone decided it", async () => {
    // A database of its own: these cells would otherwise join the other tests' snapshots.
    const own = await createTestApi();
    try {
      const tech = await own.createUser("TECHNICIAN");
      const hema = await own.createUser("HEMATOLOGIST");
      const hemaToken = await own.login(hema.user.login, hema.password);
      // Nine confident AI calls: 0 and 5 CAR-T (never confirmed in bulk), 1-4 and 6-8 others.
      const { kase, cellIds } = await seedReviewableCase(own.prisma, { createdById: tech.user.id, cells: 9 });
      const CONFIRM = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id } }`;
      const RECLASSIFY = `mutation($input: ReclassifyCellInput!) { reclassifyCell(input: $input) { id } }`;
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, cellIds.slice(1, 5)) });
      // Overridden after the bulk confirm: the frozen label is the reclassification, decided cell by cell.
      await own.gqlOk(hemaToken, RECLASSIFY, { input: { cellId: cellIds[2], expectedReviewCount: 1, expectedLabel: "neutrophil", label: "monocyte", reason: "no granules" } });
      // A second look at one cell alone, confirming it again: decided cell by cell too.
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, [cellIds[3]!]) });
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, [cellIds[0]!]) });
      // A bulk confirmation recorded before review.bulkSize existed: only its audit event says so.
      await own.prisma.review.create({ data: { cellId: cellIds[6]!, seq: 1, reviewerId: hema.user.id, action: "CONFIRM", label: "lymphocyte", previousLabel: "lymphocyte" } });
      await own.prisma.cell.update({ where: { id: cellIds[6]! }, data: { reviewCount: 1 } });
      await own.prisma.auditEvent.create({
        data: {
          actorId: hema.user.id,
          actorLogin: hema.user.login,
          action: "cell.confirm",
          entityType: "Cell",
          entityId: cellIds[6]!,
          before: { label: "lymphocyte", reviewCount: 0 },
          after: { label: "lymphocyte", reviewCount: 1, caseAccession: kase.accession, bulk: 2 },
        },
      });
      await signCaseForTest(own.prisma, kase.id, { signerId: hema.user.id });
      // Another patient's case: three cells confirmed in bulk, one alone. Of two new patients one
      // goes to TRAIN, the other to TEST; either way 3 TEST labels are bulk confirmations.
      const other = await seedReviewableCase(own.prisma, { createdById: tech.user.id, cells: 4 });
      await own.prisma.case.update({ where: { id: other.kase.id }, data: { patientRef: "MRN-0002" } });
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, other.cellIds.slice(1, 4)) });
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, [other.cellIds[0]!]) });
      await signCaseForTest(own.prisma, other.kase.id, { signerId: hema.user.id });

      const snapshot = (await own.gqlOk(await own.loginAs("DATA_SCIENTIST"), CREATE, { name: "bulk" })).createDatasetSnapshot;
      const items = await own.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.id }, select: { cellId: true, bulkConfirmed: true, split: true } });
      const frozen = (ids: string[]) => Object.fromEntries(items.filter((i) => ids.includes(i.cellId)).map((i) => [ids.indexOf(i.cellId), i.bulkConfirmed]));
      expect(frozen(cellIds)).toEqual({ 0: false, 1: true, 2: false, 3: false, 4: true, 6: true });
      expect(frozen(other.cellIds)).toEqual({ 0: false, 1: true, 2: true, 3: true });
      // Counted over the TEST part: what comparisons and proposals show beside its cell count.
      expect(new Set(items.map((i) => i.split))).toEqual(new Set(["TRAIN", "TEST"]));
      expect(await bulkConfirmedTestCells(own.prisma, snapshot.id)).toBe(3);

      // An amendment's second look at a bulk-confirmed cell, alone, keeps its label: the labels are
      // the same, yet a new snapshot is taken (not the one above answered again), recording it.
      await own.gqlOk(hemaToken, `mutation($i: AmendCaseInput!) { amendCase(input: $i) { id } }`, { i: { caseId: kase.id, reason: "second look at cell 1", expectedReportVersion: 1 } });
      await own.gqlOk(hemaToken, CONFIRM, { cells: await confirmAsSeen(own.prisma, [cellIds[1]!]) });
      await signCaseForTest(own.prisma, kase.id, { signerId: hema.user.id });
      const again = (await own.gqlOk(await own.loginAs("DATA_SCIENTIST"), CREATE, { name: "bulk again" })).createDatasetSnapshot;
      expect(again).toMatchObject({ name: "bulk again", reused: false });
      expect((await own.prisma.datasetItem.findFirstOrThrow({ where: { snapshotId: again.id, cellId: cellIds[1]! } })).bulkConfirmed).toBe(false);
    } finally {
      await own.close();
    }
  });
});

describe("the same image under other bytes in two patients' cases", () => {
  it("holds out the TEST copy of a crop uploaded losslessly to two patients as PNG at two compression levels", async () => {
    // A database of its own: these cells would otherwise join the other tests' snapshots.
    const own = await createTestApi();
    try {
      const tech = await own.loginAs("TECHNICIAN");
      const hema = await own.createUser("HEMATOLOGIST");
      // One single-cell image, saved twice without loss: other bytes, the same pixels.
      const raw = await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: "gaussian", mean: 128, sigma: 40 } } }).png().toBuffer();
      const copies = [await sharp(raw).png({ compressionLevel: 6 }).toBuffer(), await sharp(raw).png({ compressionLevel: 9 }).toBuffer()];
      expect(copies[0]!.equals(copies[1]!)).toBe(false);
      const cellIds: string[] = [];
      for (const [i, bytes] of copies.entries()) {
        const kase = (await own.gqlOk(tech, `mutation($i: CreateCaseInput!) { createCase(input: $i) { id } }`, { i: { accession: `DUP-${i}`, patientRef: `MRN-DUP-${i}` } })).createCase;
        const form = new FormData();
        form.append("files", new Blob([new Uint8Array(bytes)]), `cell-${i}.png`);
        const res = await own.fetch(`/uploads/slides?caseId=${kase.id}&kind=CROP`, { method: "POST", body: form, token: tech });
        expect(res.status).toBe(201);
        const slide = await own.prisma.slide.findFirstOrThrow({ where: { caseId: kase.id } });
        // What the analysis makes of a CROP slide (analyzeSlide): one cell, the whole image, the stored upload as its crop.
        await own.prisma.slide.update({ where: { id: slide.id }, data: { analysisStatus: "DONE" } });
        await own.prisma.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
        const cell = await own.prisma.cell.create({
          data: { slideId: slide.id, x: 0, y: 0, width: slide.width, height: slide.height, cropSha256: slide.imageSha256, currentLabel: "lymphocyte", reviewCount: 1 },
        });
        await own.prisma.review.create({ data: { cellId: cell.id, seq: 1, reviewerId: hema.user.id, action: "CONFIRM", label: "lymphocyte" } });
        await signCaseForTest(own.prisma, kase.id, { signerId: hema.user.id });
        cellIds.push(cell.id);
      }
      const slides = await own.prisma.slide.findMany({ where: { cells: { some: { id: { in: cellIds } } } } });
      expect(new Set(slides.map((s) => s.imageSha256)).size).toBe(2);
      expect(new Set(slides.map((s) => s.pixelSha256)).size).toBe(1);

      // Two new patients: one goes to TRAIN, the other to TEST, where its image would be one the
      // model learned from. That copy is held out; the TRAIN one stays.
      const snapshot = (await own.gqlOk(await own.loginAs("DATA_SCIENTIST"), CREATE, { name: "same pixels" })).createDatasetSnapshot;
      const items = await own.prisma.datasetItem.findMany({ where: { snapshotId: snapshot.id } });
      expect(items.map((i) => i.split)).toEqual(["TRAIN"]);
      expect(snapshot).toMatchObject({ itemCount: 1, heldOutCells: 1, patientCounts: { train: 1, val: 0, test: 0 } });
    } finally {
      await own.close();
    }
  });
});

describe("training runs", () => {
  it("validates the recipe and refuses other roles, writing nothing", async () => {
    const snapshot = await api.prisma.datasetSnapshot.findFirstOrThrow({ where: { name: "week 47" } });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ epochs: 0 }, /config\.epochs/],
      [{ epochs: 1000 }, /config\.epochs/],
      [{ learningRate: -1 }, /config\.learningRate/],
      [{ epochs: 2, frozenEpochs: 3 }, /frozenEpochs/],
      [{ epocs: 3 }, /config/],
    ];
    for (const [config, message] of bad) {
      const before = await trainingState();
      const r = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config });
      expect(codeOf(r), JSON.stringify(config)).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message).toMatch(message);
      expect(await trainingState()).toEqual(before);
    }
    const before = await trainingState();
    expect(codeOf(await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: "nope" }))).toBe("NOT_FOUND");
    expect(
      codeOf(
        await api.gql(tokens.DATA_SCIENTIST, START, {
          snapshotId: snapshot.id,
          base: "00000000-0000-4000-8000-000000000000",
        }),
      ),
    ).toBe("NOT_FOUND");
    for (const role of ["ADMIN", "HEMATOLOGIST", "TECHNICIAN", "AUDITOR"] as Role[]) {
      expect(codeOf(await api.gql(tokens[role], START, { snapshotId: snapshot.id })), role).toBe("FORBIDDEN");
    }
    expect(await trainingState()).toEqual(before);
  });

  it("queues a run with its job, and cancels it before it starts", async () => {
    const snapshot = await trainableSnapshot("queued");
    const run = (
      await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })
    ).startTrainingRun;
    expect(run).toMatchObject({ status: "QUEUED", progress: 0, config: { epochs: 2 } });
    // No champion here: from scratch, so no frozen phase is recorded (there is none).
    expect(run.config).not.toHaveProperty("frozenEpochs");
    const job = await api.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `trainModel:${run.id}` } });
    expect(job).toMatchObject({ type: "trainModel", status: "QUEUED", payload: { runId: run.id } });

    expect(codeOf(await api.gql(tokens.AUDITOR, CANCEL, { id: run.id, reason: "not needed" }))).toBe("FORBIDDEN");
    const cancelled = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "not needed" })).cancelTrainingRun;
    expect(cancelled).toMatchObject({ status: "CANCELLED", cancelRequested: true });
    expect((await api.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe("CANCELLED");
    const again = await api.gql(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "not needed" });
    expect(codeOf(again)).toBe("CONFLICT");
    expect(again.errors?.[0]?.message).toMatch(/already finished/);

    const READ = `query($id: ID!) { trainingRun(id: $id) { id status log metrics startedBy { login } snapshot { name } } }`;
    for (const role of ["DATA_SCIENTIST", "ADMIN", "AUDITOR"] as Role[]) {
      expect((await api.gqlOk(tokens[role], READ, { id: run.id })).trainingRun.status).toBe("CANCELLED");
    }
    expect(codeOf(await api.gql(tokens.HEMATOLOGIST, READ, { id: run.id }))).toBe("FORBIDDEN");
    expect(codeOf(await api.gql(tokens.ADMIN, READ, { id: "00000000-0000-4000-8000-000000000000" }))).toBe(
      "NOT_FOUND",
    );
  });

  it("refuses settings a fine-tuning run would not apply (the base model's network is kept), storing nothing", async () => {
    const snapshot = await trainableSnapshot("fine-tuned at the base's size");
    const champion = await insertModelVersion(api.prisma, { status: "CHAMPION", labels: ["car_t", "lymphocyte"] });
    try {
      expect(champion.inputSize).toBe(32);
      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ epochs: 2, inputSize: 128 }, /^Invalid training config: config\.inputSize does not apply to this run: fine-tuning keeps the input size of the base model fixture-model .*, 32 px, not 128; leave it out$/],
        [{ epochs: 2, widthMultiplier: 0.5 }, /^Invalid training config: config\.widthMultiplier does not apply to this run: fine-tuning keeps the network of the base model/],
      ];
      for (const [config, message] of refusals) {
        const before = await trainingState();
        const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config });
        expect(codeOf(refused), JSON.stringify(config)).toBe("BAD_USER_INPUT");
        expect(refused.errors?.[0]?.message).toMatch(message);
        expect(refused.errors?.[0]?.extensions).toMatchObject({ field: `config.${Object.keys(config)[1]}` });
        // No run, no job, no training.start event.
        expect(await trainingState()).toEqual(before);
      }
      // The base's own size is harmless, and recorded as what it is; a run of one epoch gets a
      // frozen phase no longer than itself rather than a refusal for a setting it never gave.
      const run = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 1, inputSize: 32 } })).startTrainingRun;
      expect(run.config).toEqual({ epochs: 1, frozenEpochs: 1, batchSize: 16, learningRate: 1e-3, fineTuneLearningRate: 2e-4, seed: 1, inputSize: 32 });
      expect((await api.prisma.trainingRun.findUniqueOrThrow({ where: { id: run.id } })).baseModelVersionId).toBe(champion.id);
      await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "test over" });
    } finally {
      await api.prisma.modelVersion.update({ where: { id: champion.id }, data: { status: "ARCHIVED" } });
    }
  });

  it("refuses settings a run from scratch would not apply, and a width RCMNet cannot be built with, storing nothing", async () => {
    const snapshot = await trainableSnapshot("from scratch");
    expect(await api.prisma.modelVersion.count({ where: { status: "CHAMPION" } })).toBe(0);
    const refusals: [Record<string, unknown>, RegExp][] = [
      // 512 x 0.3 rounds to 154, which the 4 attention heads cannot split: the worker failed on it
      // three times over, after copying the snapshot.
      [{ epochs: 2, widthMultiplier: 0.3 }, /^Invalid training config: config\.widthMultiplier: 0\.3 gives rcmnet a last-stage width of 154 .*not divisible by its 4 attention heads/],
      [{ epochs: 2, frozenEpochs: 1 }, /^Invalid training config: config\.frozenEpochs does not apply to this run: it applies to transfer learning only/],
      [{ epochs: 2, fineTuneLearningRate: 1e-4 }, /^Invalid training config: config\.fineTuneLearningRate does not apply to this run: it applies to transfer learning only/],
    ];
    for (const [config, message] of refusals) {
      const before = await trainingState();
      const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config });
      expect(codeOf(refused), JSON.stringify(config)).toBe("BAD_USER_INPUT");
      expect(refused.errors?.[0]?.message).toMatch(message);
      expect(await trainingState()).toEqual(before);
    }
    // The record and its frozen training.start event hold only what the run applies.
    const run = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 1, inputSize: 48, widthMultiplier: 0.25 } })).startTrainingRun;
    const recorded = { epochs: 1, batchSize: 16, learningRate: 1e-3, seed: 1, inputSize: 48, widthMultiplier: 0.25 };
    expect(run.config).toEqual(recorded);
    const started = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "training.start", entityId: run.id } });
    expect(started.after).toMatchObject({ baseModelVersionId: null, config: recorded });
    await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "test over" });
  });

  it("cancels only with a reason (trimmed, at most 2000 characters), kept as the training.cancel event's reason", async () => {
    const snapshot = await trainableSnapshot("cancel reason");
    const run = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })).startTrainingRun;
    try {
      const before = await trainingState();
      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ id: run.id }, /\$reason/],
        [{ id: run.id, reason: "" }, /reason is required/],
        [{ id: run.id, reason: " \n\t " }, /reason is required/],
        [{ id: run.id, reason: "x".repeat(2001) }, /at most 2000 characters/],
        // The reason is weighed before the run is looked for.
        [{ id: "00000000-0000-4000-8000-000000000000", reason: "   " }, /reason is required/],
      ];
      for (const [vars, message] of refusals) {
        const refused = await api.gql(tokens.DATA_SCIENTIST, CANCEL, vars);
        expect(codeOf(refused), JSON.stringify(vars).slice(0, 60)).toBe("BAD_USER_INPUT");
        expect(refused.errors?.[0]?.message).toMatch(message);
      }
      // Nothing stored: the run stays queued, not even flagged, its job queued, no event.
      expect(await trainingState()).toEqual(before);
      expect(await api.prisma.auditEvent.count({ where: { entityId: run.id, action: "training.cancel" } })).toBe(0);

      const cancelled = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "  wrong snapshot chosen \n" })).cancelTrainingRun;
      expect(cancelled).toMatchObject({ status: "CANCELLED", cancelRequested: true });
      const events = await api.prisma.auditEvent.findMany({ where: { entityId: run.id, action: "training.cancel" } });
      expect(events.map((e) => ({ actor: e.actorLogin, before: e.before, after: e.after, reason: e.reason }))).toEqual([
        {
          actor: expect.any(String),
          before: { status: "QUEUED" },
          after: { status: "CANCELLED", cancelRequested: true },
          reason: "wrong snapshot chosen",
        },
      ]);
      // A reason of exactly 2000 characters is taken (on a second run).
      const second = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })).startTrainingRun;
      await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: second.id, reason: "y".repeat(2000) });
      const longest = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: second.id, action: "training.cancel" } });
      expect(longest.reason).toBe("y".repeat(2000));
    } finally {
      await api.prisma.trainingRun.updateMany({ where: { snapshotId: snapshot.id, status: { in: ["QUEUED", "RUNNING"] } }, data: { status: "CANCELLED", finishedAt: new Date() } });
    }
  });

  it("refuses a second run while one is queued or running (CONFLICT naming it), writing nothing", async () => {
    const snapshot = await trainableSnapshot("one at a time");
    const run = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })).startTrainingRun;
    try {
      for (const status of ["RUNNING", "QUEUED"] as const) {
        await api.prisma.trainingRun.update({ where: { id: run.id }, data: { status } });
        const before = await trainingState();
        const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } });
        expect(codeOf(refused), status).toBe("CONFLICT");
        expect(refused.errors?.[0]?.message).toMatch(new RegExp(`Training run ${run.id} \\(snapshot "one at a time", .*\\) is still ${status.toLowerCase()}: wait for it to finish, or cancel it`));
        expect(refused.errors?.[0]?.extensions).toMatchObject({ activeRunId: run.id, activeRunStatus: status });
        expect(await trainingState()).toEqual(before);
      }
      // Two starts at once after it ends: one run is queued, the other refused.
      expect((await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: run.id, reason: "not needed" })).cancelTrainingRun.status).toBe("CANCELLED");
      const both = await Promise.all([0, 1].map(() => api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })));
      expect(both.map(codeOf).sort()).toEqual(["CONFLICT", undefined]);
      const queued = both.find((r) => !r.errors)!.data.startTrainingRun.id as string;
      expect((await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: queued, reason: "not needed" })).cancelTrainingRun.status).toBe("CANCELLED");
    } finally {
      await api.prisma.trainingRun.updateMany({ where: { id: run.id, status: { in: ["QUEUED", "RUNNING"] } }, data: { status: "CANCELLED", finishedAt: new Date() } });
    }
  });

  it("settles a run whose job ended without closing it (its worker killed on the last attempt)", async () => {
    const snapshot = await trainableSnapshot("settled");
    const died = async () => {
      const run = (await api.gqlOk(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } })).startTrainingRun;
      await api.prisma.trainingRun.update({ where: { id: run.id }, data: { status: "RUNNING" } });
      await api.prisma.job.update({
        where: { dedupeKey: `trainModel:${run.id}` },
        data: { status: "FAILED", error: "worker w1 stopped renewing its lease (attempt 3 of 3) in /srv/rcmnet/.data/runs" },
      });
      return run.id as string;
    };
    const idle = await died();
    // What it left: its copies of the crops and a checkpoint.
    const leftovers = [join(api.env.dataDir, "runs", idle, "data"), join(api.env.dataDir, "models", "runs", idle, "checkpoint")];
    for (const dir of leftovers) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "x.png"), "crop");
    }
    expect(await reconcileTrainingRuns(api.prisma, api.env.dataDir)).toBeGreaterThanOrEqual(1);
    for (const dir of leftovers) expect(existsSync(dir), dir).toBe(false);
    const settled = await api.prisma.trainingRun.findUniqueOrThrow({ where: { id: idle } });
    expect(settled).toMatchObject({ status: "FAILED" });
    expect(settled.error).toMatch(/ended without closing the run: worker w1 stopped renewing its lease .* in <path>/);
    expect(await api.prisma.auditEvent.count({ where: { entityId: idle, action: "training.status" } })).toBe(1);

    // Cancelled by a data scientist before any worker went idle: settled at once, not "Cancelling…" forever.
    // One that registered its model before its worker died: settled SUCCEEDED; its checkpoint
    // goes, its model folder (the registered model's) stays.
    const registered = await died();
    await insertModelVersion(api.prisma, { trainingRunId: registered });
    const modelDir = join(api.env.dataDir, "models", "runs", registered);
    await mkdir(join(modelDir, "checkpoint"), { recursive: true });
    await writeFile(join(modelDir, "weights.bin"), "w");
    expect(await reconcileTrainingRuns(api.prisma, api.env.dataDir)).toBeGreaterThanOrEqual(1);
    expect((await api.prisma.trainingRun.findUniqueOrThrow({ where: { id: registered } })).status).toBe("SUCCEEDED");
    expect(existsSync(join(modelDir, "checkpoint"))).toBe(false);
    expect(existsSync(join(modelDir, "weights.bin"))).toBe(true);

    const dead = await died();
    await mkdir(join(api.env.dataDir, "runs", dead, "data"), { recursive: true });
    const cancelled = (await api.gqlOk(tokens.DATA_SCIENTIST, CANCEL, { id: dead, reason: "its worker died" })).cancelTrainingRun;
    expect(cancelled).toMatchObject({ status: "FAILED", cancelRequested: true });
    expect(existsSync(join(api.env.dataDir, "runs", dead))).toBe(false);
  });

  it("refuses to train on a snapshot without TRAIN cells of a class the champion suggests, writing nothing", async () => {
    const snapshot = await trainableSnapshot("no eosinophils");
    const champion = await insertModelVersion(api.prisma, { status: "CHAMPION", labels: ["car_t", "eosinophil", "lymphocyte"] });
    try {
      const before = await trainingState();
      const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: snapshot.id, config: { epochs: 2 } });
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      expect(refused.errors?.[0]?.message).toMatch(/suggests eosinophil, which this snapshot has no TRAIN cells of/);
      expect(await trainingState()).toEqual(before);
    } finally {
      await api.prisma.modelVersion.update({ where: { id: champion.id }, data: { status: "ARCHIVED" } });
    }
  });

  it("refuses to train on a snapshot taken under the old rule, with cases without a patient study id in TRAIN, writing nothing", async () => {
    const now = await trainableSnapshot("under the new rule");
    const taken = await api.prisma.datasetSnapshot.findUniqueOrThrow({ where: { id: now.id }, include: { items: true } });
    // As a snapshot taken before 2026-11-28 froze it: one such case, its cells put in TRAIN.
    const { id: _id, createdAt: _at, items, ...fields } = taken;
    const old = await api.prisma.datasetSnapshot.create({
      data: {
        ...fields,
        name: "before 2026-11-28",
        contentHash: "0".repeat(64),
        splitSummary: { ...(taken.splitSummary as object), casesWithoutPatient: 1 },
        items: { create: items.map(({ id: _i, snapshotId: _s, ...item }) => item) },
      } as never,
    });
    const before = await trainingState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: old.id, config: { epochs: 2 } });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0]?.message).toMatch(
      /^Snapshot before 2026-11-28 puts 1 case without a patient study id in TRAIN .* Take a new snapshot: it leaves such cases out until their study ids are entered$/,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({ casesWithoutPatient: 1 });
    expect(await trainingState()).toEqual(before);
  });

  it("refuses a run whose decoded TRAIN and VAL images would not fit the worker's memory limit, writing nothing", async () => {
    // A worker with room for 5 cells at 64 px, on its own database.
    const small = await createTestApi({ limits: { maxTrainingImageBytes: 64 * 64 * 3 * 5 } });
    try {
      const ds = await small.loginAs("DATA_SCIENTIST");
      const snapshot = await trainableSnapshot("too big", small, ds);
      const before = await small.prisma.trainingRun.count();
      const refused = await small.gql(ds, START, { snapshotId: snapshot.id, config: { epochs: 2, inputSize: 64 } });
      expect(codeOf(refused)).toBe("BAD_USER_INPUT");
      expect(refused.errors?.[0]?.message).toMatch(/decodes its \d+ TRAIN and VAL cells at 64 px up front: .* GiB, over the worker's limit/);
      expect(await small.prisma.trainingRun.count()).toBe(before);
    } finally {
      await small.close();
    }
  });

  it("refuses to train on a snapshot with a class that has no TRAIN cells, writing nothing", async () => {
    const first = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "before the rare class" })).createDatasetSnapshot;
    const inTest = await api.prisma.datasetItem.findFirstOrThrow({
      where: { snapshotId: first.id, split: "TEST" },
      include: { cell: { include: { slide: { include: { case: true } } } } },
    });
    // The rare class's only cell joins a TEST group (parts are sticky by patient, else by case).
    const hema = await api.createUser("HEMATOLOGIST");
    const { patientRef } = inTest.cell.slide.case;
    if (patientRef) {
      const tech = await api.createUser("TECHNICIAN");
      await insertCaseWithCells(api.prisma, { createdById: tech.user.id, reviewerId: hema.user.id, status: "SIGNED_OUT", patientRef, cells: [{ reviews: ["basophil"] }] });
    } else {
      // Into the same signed case: reopened for it (a signed case takes no new cells), then signed again.
      const kase = inTest.cell.slide.case;
      await api.prisma.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
      const cell = await api.prisma.cell.create({
        data: { slideId: inTest.cell.slideId, x: 900, y: 900, width: 10, height: 10, cropSha256: "b".repeat(64), currentLabel: "basophil", reviewCount: 1 },
      });
      await api.prisma.review.create({ data: { cellId: cell.id, seq: 1, reviewerId: hema.user.id, action: "CONFIRM", label: "basophil" } });
      await signCaseForTest(api.prisma, kase.id, { signerId: hema.user.id });
    }
    const rare = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "rare class in TEST only" })).createDatasetSnapshot;
    expect(rare.labels).toContain("basophil");
    expect(await api.prisma.datasetItem.findMany({ where: { snapshotId: rare.id, label: "basophil" }, select: { split: true } })).toEqual([{ split: "TEST" }]);
    const before = await trainingState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: rare.id, config: { epochs: 2 } });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0]?.message).toMatch(/^basophil has no TRAIN cells in this snapshot/);
    expect(await trainingState()).toEqual(before);
  });

  it("refuses to train on a snapshot whose labels an amendment has changed since, writing nothing", async () => {
    const created = (await api.gqlOk(tokens.DATA_SCIENTIST, CREATE, { name: "before the amendment" })).createDatasetSnapshot;
    const item = await api.prisma.datasetItem.findFirstOrThrow({ where: { snapshotId: created.id } });
    const READ = `{ datasetSnapshots(first: 50) { nodes { id relabelledSince } } }`;
    const countOf = async () => (await api.gqlOk(tokens.DATA_SCIENTIST, READ)).datasetSnapshots.nodes.find((n: { id: string }) => n.id === created.id).relabelledSince;
    expect(await countOf()).toBe(0);
    // An amendment reopens the case (a signed case's cells do not change) and relabels one of its
    // cells (the review path sets the cell's current label).
    const kase = (await api.prisma.cell.findUniqueOrThrow({ where: { id: item.cellId }, include: { slide: { include: { case: true } } } })).slide.case;
    await api.prisma.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
    await api.prisma.cell.update({ where: { id: item.cellId }, data: { currentLabel: `${item.label}-corrected` } });
    expect(await countOf()).toBe(1);
    const before = await trainingState();
    const refused = await api.gql(tokens.DATA_SCIENTIST, START, { snapshotId: created.id, config: { epochs: 2 } });
    expect(codeOf(refused)).toBe("CONFLICT");
    // `created` may be an earlier snapshot answered again (reused), under its own name.
    expect(refused.errors?.[0]?.message).toBe(
      `1 cell of snapshot ${created.name} no longer holds the label it was frozen with (relabelled by an amendment, its image voided, or its case's report retracted): take a new snapshot, so the model learns and is tested on the current labels`,
    );
    expect(await trainingState()).toEqual(before);
    await api.prisma.cell.update({ where: { id: item.cellId }, data: { currentLabel: item.label } });
    // Signed again (the next version, as the database requires of a signing).
    await signCaseForTest(api.prisma, kase.id);
  });
});
