import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing/index.ts";
import { insertModelVersion } from "../../jobs/testing/fixtures.ts";
import { confirmAsSeen, databaseFingerprint, ensureModelVersion, FIXTURE_LABELS, seedReviewableCase } from "../../testing/fixtures.ts";
import { CART_LABEL } from "../cases/whiteCellDifferential.ts";
import { bulkConfirmableCells } from "./confirmCells.ts";

let api: TestApi;
let hema: string;
let hema2: string;
let techId: string;
beforeAll(async () => {
  api = await createTestApi();
  hema = await api.loginAs("HEMATOLOGIST");
  const other = await api.createUser("HEMATOLOGIST");
  hema2 = await api.login(other.user.login, other.password);
  techId = (await api.createUser("TECHNICIAN")).user.id;
});
afterAll(() => api?.close());

const RECLASSIFY = `mutation($input: ReclassifyCellInput!) { reclassifyCell(input: $input) { id currentLabel reviewCount humanDecided } }`;
const CONFIRM = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells) { id currentLabel reviewCount } }`;

describe("review", () => {
  it("requires a reason to override the AI and records the decision and its audit event", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    const cellId = cellIds[0]!; // AI said car_t
    const noReason = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "car_t", label: "lymphocyte" } });
    expect(noReason.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(noReason.errors?.[0]?.message).toMatch(/reason/);
    const ok = await api.gqlOk(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "car_t", label: "lymphocyte", reason: "nucleus is round, no blast features" } });
    expect(ok.reclassifyCell).toMatchObject({ currentLabel: "lymphocyte", reviewCount: 1, humanDecided: true });
    const review = await api.prisma.review.findUniqueOrThrow({ where: { cellId_seq: { cellId, seq: 1 } } });
    expect(review).toMatchObject({ action: "RECLASSIFY", label: "lymphocyte", previousLabel: "car_t", reason: "nucleus is round, no blast features" });
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellId, action: "cell.reclassify" } });
    expect(audit.reason).toBe("nucleus is round, no blast features");
    // Back to the AI's label: no reason needed.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 1, expectedLabel: "lymphocyte", label: "car_t" } });
  });

  it("always allows unidentified and artifact, refuses unknown labels", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3 });
    const bad = await api.gql(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "car_t", label: "dragon", reason: "x" } });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    for (const [i, expectedLabel, label] of [[1, "lymphocyte", "artifact"], [2, "neutrophil", "unidentified"]] as const) {
      const r = await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[i], expectedReviewCount: 0, expectedLabel, label, reason: "stain debris" } });
      expect(r.reclassifyCell.currentLabel).toBe(label);
    }
    const labels = await api.gqlOk(hema, `{ reviewLabels }`);
    expect(labels.reviewLabels).toEqual(expect.arrayContaining(["artifact", "unidentified", "car_t"]));
  });

  it("always allows blast, though no model has the class: a white cell in the count, overriding the AI only with a reason", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    expect(await api.prisma.modelVersion.count({ where: { labels: { has: "blast" } } })).toBe(0);
    expect((await api.gqlOk(hema, `{ reviewLabels }`)).reviewLabels).toContain("blast");
    const DIFF = `query($id: ID!) { case(id: $id) { differential { counted rows { label count percent } excluded { label count } } } }`;
    const before = (await api.gqlOk(hema, DIFF, { id: kase.id })).case.differential;
    // No model screens for blasts: no "0 blasts" row until a cell has one.
    expect(before.rows.map((r: { label: string }) => r.label)).not.toContain("blast");
    // The fixture's tenth cell is an AI abstention (unidentified, out of the count).
    const cellId = cellIds[9]!;
    const fingerprint = await databaseFingerprint(api.prisma);
    const noReason = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "unidentified", label: "blast" } });
    expect(noReason.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(noReason.errors?.[0]?.message).toMatch(/reason/);
    expect(await databaseFingerprint(api.prisma)).toEqual(fingerprint);
    const ok = await api.gqlOk(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "unidentified", label: "blast", reason: "high N:C ratio, fine chromatin, nucleoli" } });
    expect(ok.reclassifyCell).toMatchObject({ currentLabel: "blast", reviewCount: 1 });
    const after = (await api.gqlOk(hema, DIFF, { id: kase.id })).case.differential;
    // Counted among the white cells (unidentified, it was not), its row after the models' classes.
    expect(after.counted).toBe(before.counted + 1);
    expect(after.rows.at(-1)).toEqual({ label: "blast", count: 1, percent: 10 });
    expect(after.excluded.find((e: { label: string }) => e.label === "unidentified")?.count ?? 0).toBe(0);
  });

  it("gives the second of two reviewers a CONFLICT and loses nothing", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const cellId = cellIds[0]!;
    const first = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "car_t", label: "monocyte", reason: "kidney-shaped nucleus" } });
    expect(first.errors).toBeUndefined();
    const second = await api.gql(hema2, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "car_t", label: "neutrophil", reason: "lobes" } });
    expect(second.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(second.errors?.[0]?.extensions?.currentLabel).toBe("monocyte");
    const cell = await api.prisma.cell.findUniqueOrThrow({ where: { id: cellId } });
    expect(cell).toMatchObject({ currentLabel: "monocyte", reviewCount: 1 });
    expect(await api.prisma.review.count({ where: { cellId } })).toBe(1);

    // A real race: both requests in flight at once; exactly one wins.
    const race = await Promise.all([
      api.gql(hema, RECLASSIFY, { input: { cellId: cellIds[1], expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "eosinophil", reason: "granules" } }),
      api.gql(hema2, RECLASSIFY, { input: { cellId: cellIds[1], expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "monocyte", reason: "shape" } }),
    ]);
    const codes = race.map((r) => r.errors?.[0]?.extensions?.code ?? "OK").sort();
    expect(codes).toEqual(["CONFLICT", "OK"]);
    expect(await api.prisma.review.count({ where: { cellId: cellIds[1] } })).toBe(1);
  });

  it("confirms in bulk, all or nothing", async () => {
    const { cellIds: all } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 50 });
    // Every tenth cell's AI call abstained, and every fifth is a CAR-T call: those are confirmed
    // one by one (below).
    const cellIds = all.filter((_, i) => i % 10 !== 9 && i % 5 !== 0);
    const stale = (await confirmAsSeen(api.prisma, cellIds)).map((c, i) => ({ ...c, expectedReviewCount: i === cellIds.length - 1 ? 1 : 0 }));
    const refused = await api.gql(hema, CONFIRM, { cells: stale });
    expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(await api.prisma.review.count({ where: { cellId: { in: all } } })).toBe(0);

    const r = await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds) });
    expect(r.confirmCells).toHaveLength(35);
    expect(r.confirmCells.every((c: { reviewCount: number }) => c.reviewCount === 1)).toBe(true);
    expect(await api.prisma.review.count({ where: { cellId: { in: cellIds }, action: "CONFIRM" } })).toBe(35);
    expect(await api.prisma.auditEvent.count({ where: { entityId: { in: cellIds }, action: "cell.confirm" } })).toBe(35);
    const bulkEvent = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellIds[0], action: "cell.confirm" } });
    expect(bulkEvent.after).toMatchObject({ bulk: 35 });
    // The review rows say so too (bulkSize: how many in the request), which a snapshot freezes.
    expect(await api.prisma.review.groupBy({ by: ["bulkSize"], where: { cellId: { in: cellIds } }, _count: true })).toEqual([{ bulkSize: 35, _count: 35 }]);
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[1]!]) });
    const single = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellIds[1], action: "cell.confirm" }, orderBy: { seq: "desc" } });
    expect(single.after).not.toHaveProperty("bulk");
    // A confirmation alone is a decision made cell by cell: no bulk size.
    expect(await api.prisma.review.findUniqueOrThrow({ where: { cellId_seq: { cellId: cellIds[1]!, seq: 2 } } })).toMatchObject({ action: "CONFIRM", bulkSize: null });
    // The database holds the rule: a bulk size only on a confirmation, of at least one cell.
    const alone = await api.prisma.cell.findUniqueOrThrow({ where: { id: all[0]! } });
    await expect(
      api.prisma.review.create({ data: { cellId: alone.id, seq: 1, reviewerId: techId, action: "RECLASSIFY", label: "lymphocyte", bulkSize: 2 } }),
    ).rejects.toThrow(/review_bulk_size/);
    await expect(
      api.prisma.review.create({ data: { cellId: alone.id, seq: 1, reviewerId: techId, action: "CONFIRM", label: "car_t", bulkSize: 0 } }),
    ).rejects.toThrow(/review_bulk_size/);

    const dup = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!, cellIds[0]!]) });
    expect(dup.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const unknown = await api.gql(hema, CONFIRM, { cells: [{ cellId: "00000000-0000-4000-8000-000000000000", expectedReviewCount: 0, expectedLabel: "car_t" }] });
    expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const notUuid = await api.gql(hema, CONFIRM, { cells: [{ cellId: "x'; DROP TABLE cell; --", expectedReviewCount: 0, expectedLabel: "car_t" }] });
    expect(notUuid.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("refuses to confirm a label the page did not show (a new champion predicted the cell again), writing nothing", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4 });
    // Cells 1-3 (cell 0 is a CAR-T call, never confirmed in bulk).
    const seen = await confirmAsSeen(api.prisma, cellIds.slice(1, 4));
    // After the page loaded, a new champion's re-prediction changed cell 1's label; it is still
    // undecided (reviewCount 0), so the review count alone cannot tell.
    const newer = await insertModelVersion(api.prisma, { labels: FIXTURE_LABELS });
    await api.prisma.prediction.create({
      data: { cellId: cellIds[1]!, modelVersionId: newer.id, label: "monocyte", probabilities: { monocyte: 0.95 }, confidence: 0.95, createdAt: new Date(Date.now() + 1000) },
    });
    await api.prisma.cell.update({ where: { id: cellIds[1]! }, data: { currentLabel: "monocyte" } });
    expect(seen[0]!.expectedLabel).toBe("lymphocyte");

    const before = await databaseFingerprint(api.prisma);
    const alone = await api.gql(hema, CONFIRM, { cells: [seen[0]] });
    expect(alone.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentReviewCount: 0, currentLabel: "monocyte" });
    expect(alone.errors?.[0]?.message).toMatch(/label changed since your page loaded/);
    // In a bulk confirm one such cell refuses the whole request.
    const bulk = await api.gql(hema, CONFIRM, { cells: seen });
    expect(bulk.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", cellId: cellIds[1], changedCells: 1 });
    expect(bulk.errors?.[0]?.message).toMatch(/^The label of 1 of these 3 cells changed/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // Reloaded, the reviewer confirms what is shown now.
    const r = await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 4)) });
    expect(r.confirmCells.map((c: { currentLabel: string }) => c.currentLabel)).toEqual(["monocyte", "neutrophil", "monocyte"]);
    expect(await api.prisma.review.findFirstOrThrow({ where: { cellId: cellIds[1]! } })).toMatchObject({ action: "CONFIRM", label: "monocyte" });
  });

  it("refuses to reclassify a label the page did not show (a new champion predicted the cell again), writing nothing", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const cellId = cellIds[1]!;
    // The page showed cell 1 undecided with the AI's "lymphocyte"; then a new champion's
    // re-prediction made it "monocyte", its review count still 0.
    const newer = await insertModelVersion(api.prisma, { labels: FIXTURE_LABELS });
    await api.prisma.prediction.create({
      data: { cellId, modelVersionId: newer.id, label: "monocyte", probabilities: { monocyte: 0.95 }, confidence: 0.95, createdAt: new Date(Date.now() + 1000) },
    });
    await api.prisma.cell.update({ where: { id: cellId }, data: { currentLabel: "monocyte" } });

    const before = await databaseFingerprint(api.prisma);
    // An override with a reason written against "the AI said lymphocyte" is not stored as overriding "monocyte".
    const override = await api.gql(hema, RECLASSIFY, {
      input: { cellId, expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "neutrophil", reason: "lobed nucleus, not a lymphocyte" },
    });
    expect(override.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentReviewCount: 0, currentLabel: "monocyte" });
    expect(override.errors?.[0]?.message).toMatch(/label changed since your page loaded/);
    // Choosing the new AI label unseen is the same conflict, not "already has this label: confirm it instead".
    const toNewLabel = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "monocyte", reason: "monocyte" } });
    expect(toNewLabel.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentLabel: "monocyte" });
    expect(await api.prisma.review.count({ where: { cellId } })).toBe(0);
    expect(await api.prisma.auditEvent.count({ where: { entityId: cellId } })).toBe(0);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // Reloaded, the reviewer overrides what is shown now, and that is what is recorded.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "monocyte", label: "neutrophil", reason: "lobed nucleus" } });
    expect(await api.prisma.review.findFirstOrThrow({ where: { cellId } })).toMatchObject({ action: "RECLASSIFY", label: "neutrophil", previousLabel: "monocyte" });
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellId, action: "cell.reclassify" } });
    expect(audit.before).toMatchObject({ label: "monocyte", aiLabel: "monocyte" });
  });

  it("takes a null expectedLabel for a cell without a label only, and refuses a missing or empty one, writing nothing", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const cellId = cellIds[1]!;
    const before = await databaseFingerprint(api.prisma);
    const missing = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, label: "neutrophil", reason: "lobes" } });
    expect(missing.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(missing.errors?.[0]?.message).toMatch(/expectedLabel/);
    const empty = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "", label: "neutrophil", reason: "lobes" } });
    expect(empty.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(empty.errors?.[0]?.message).toMatch(/expectedLabel/);
    // Null says the page showed no label: refused while the cell has one.
    const none = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: null, label: "neutrophil", reason: "lobes" } });
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentLabel: "lymphocyte" });
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // A cell without a label is reclassified against null, and a label is refused for it.
    await api.prisma.cell.update({ where: { id: cellId }, data: { currentLabel: null } });
    const labelled = await api.gql(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: "lymphocyte", label: "neutrophil", reason: "lobes" } });
    expect(labelled.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentLabel: null });
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId, expectedReviewCount: 0, expectedLabel: null, label: "neutrophil", reason: "lobes" } });
    expect(await api.prisma.review.findFirstOrThrow({ where: { cellId } })).toMatchObject({ label: "neutrophil", previousLabel: null });
  });

  it("answers a missing, empty or mistyped expectedLabel with a clear BAD_USER_INPUT, writing nothing", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    const before = await databaseFingerprint(api.prisma);
    const missing = await api.gql(hema, CONFIRM, { cells: [{ cellId: cellIds[0], expectedReviewCount: 0 }] });
    expect(missing.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(missing.errors?.[0]?.message).toMatch(/expectedLabel/);
    const mistyped = await api.gql(hema, CONFIRM, { cells: [{ cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: 3 }] });
    expect(mistyped.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(mistyped.errors?.[0]?.message).toMatch(/expectedLabel/);
    const empty = await api.gql(hema, CONFIRM, { cells: [{ cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "" }] });
    expect(empty.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(empty.errors?.[0]?.message).toMatch(/expectedLabel/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("refuses to confirm in bulk the calls of a model a rollback withdrew (CONFLICT), changing nothing; one by one is allowed", async () => {
    // A rollback leaves open cases with the withdrawn model's calls: an archived model that an
    // approved rollback replaced stands for it.
    const champion = await ensureModelVersion(api.prisma);
    const withdrawn = await insertModelVersion(api.prisma, { status: "ARCHIVED", labels: FIXTURE_LABELS, name: "rcmnet", version: "2.0-withdrawn" });
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4, model: withdrawn });
    // Merely succeeded (no rollback yet): its confident calls were trusted when made, and stay confirmable in bulk.
    // (Cell 0 of each case is a CAR-T call, never confirmed in bulk.)
    const succeeded = await seedReviewableCase(api.prisma, { createdById: techId, cells: 3, model: withdrawn });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, succeeded.cellIds.slice(1)) });
    await api.prisma.modelPromotion.create({
      data: { modelVersionId: champion.id, kind: "ROLLBACK", state: "APPROVED", reason: "misses blasts", proposedById: techId, replacesChampionId: withdrawn.id, decidedById: techId, decidedAt: new Date() },
    });
    const before = await databaseFingerprint(api.prisma);
    const bulk = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 4)) });
    expect(bulk.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(bulk.errors?.[0]?.message).toMatch(/3 of these 3 cells carry suggestions of rcmnet 2\.0-withdrawn, which a rollback withdrew from service/);
    expect(bulk.errors?.[0]?.extensions?.models).toEqual(["rcmnet 2.0-withdrawn"]);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // A newer call by the champion replaces the withdrawn one for that cell only: a request mixing
    // it with a withdrawn call is refused whole (all or nothing).
    const byChampion = (cellId: string, label: string) =>
      api.prisma.prediction.create({ data: { cellId, modelVersionId: champion.id, label, probabilities: { [label]: 0.9 }, confidence: 0.9, createdAt: new Date(Date.now() + 1000) } });
    await byChampion(cellIds[1]!, FIXTURE_LABELS[1]!);
    const mixed = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 3)) });
    expect(mixed.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(mixed.errors?.[0]?.message).toMatch(/^1 of these 2 cells/);
    expect(await api.prisma.review.count({ where: { cellId: { in: cellIds } } })).toBe(0);
    await byChampion(cellIds[2]!, FIXTURE_LABELS[2]!);
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 3)) });
    // One cell looked at alone may be confirmed whatever model suggested it.
    const alone = await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
    expect(alone.confirmCells[0]).toMatchObject({ reviewCount: 1 });
  });

  it("refuses a bulk confirm with an abstained or under-80% AI call, and confirms such a cell alone", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    // The threshold enforced here is the one the dashboard is served (and flags cells by).
    const { reviewPolicy } = await api.gqlOk(hema, `{ reviewPolicy { bulkMinConfidence } }`);
    expect(reviewPolicy).toEqual({ bulkMinConfidence: 0.8 });
    const before = await databaseFingerprint(api.prisma);
    // Cell 9 abstained; cell 1 gets a newer prediction at 79%.
    const withAbstained = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(7)) });
    expect(withAbstained.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(withAbstained.errors?.[0]?.message).toMatch(/1 of these 3 cells .* one by one/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    const newer = await insertModelVersion(api.prisma);
    await api.prisma.prediction.create({
      data: { cellId: cellIds[1]!, modelVersionId: newer.id, label: "lymphocyte", probabilities: { lymphocyte: 0.79 }, confidence: 0.79, createdAt: new Date(Date.now() + 1000) },
    });
    const unsure = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(1, 3)) });
    expect(unsure.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(unsure.errors?.[0]?.message).toMatch(/^1 of these 2 cells have no AI call of at least 80% confidence/);
    expect(await api.prisma.review.count({ where: { cellId: { in: cellIds } } })).toBe(0);
    // One at a time, a hematologist may confirm any of them: the abstention (unidentified, so out
    // of the white-cell count) with a reason, kept with the decision and in the trail.
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[1]!]) });
    const bare = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[9]!]) });
    expect(bare.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(bare.errors?.[0]?.message).toMatch(/reason is required to leave a cell unidentified/);
    expect(await api.prisma.review.count({ where: { cellId: cellIds[9]! } })).toBe(0);
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[9]!], { reason: "smudged: no nucleus detail" }) });
    expect(await api.prisma.review.findFirstOrThrow({ where: { cellId: cellIds[9]! } })).toMatchObject({ action: "CONFIRM", label: "unidentified", reason: "smudged: no nucleus detail" });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellIds[9]!, action: "cell.confirm" } });
    expect(event.reason).toBe("smudged: no nucleus detail");
  });

  it("refuses CAR-T calls in a bulk confirm, however confident, changing nothing; one by one they are confirmed", async () => {
    // Labels cycle car_t, lymphocyte, neutrophil, monocyte, eosinophil at 80% (confident): cells 0
    // and 5 are CAR-T calls; cell 9 abstained.
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    const cart = [cellIds[0]!, cellIds[5]!];
    const others = cellIds.slice(0, 9).filter((id) => !cart.includes(id));
    // The labels refused here are the ones the dashboard is served (and leaves out of its bulk action).
    const { reviewPolicy } = await api.gqlOk(hema, `{ reviewPolicy { bulkMinConfidence bulkExcludedLabels } }`);
    expect(reviewPolicy.bulkExcludedLabels).toContain("car_t");
    expect(reviewPolicy.bulkExcludedLabels.every((l: string) => CART_LABEL.test(l))).toBe(true);
    // bulkConfirmableCells (the demo seed's choice of what to confirm together) follows the same rule.
    expect([...(await bulkConfirmableCells(api.prisma, cellIds))].sort()).toEqual([...others].sort());

    const before = await databaseFingerprint(api.prisma);
    const mixed = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(0, 9)) });
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "cells", excludedClass: "CAR-T", excludedCells: 2 });
    expect(mixed.errors?.[0]?.message).toMatch(/^2 of these 9 cells are CAR-T calls, which are never confirmed in bulk: confirm those one by one/);
    const onlyCart = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cart) });
    expect(onlyCart.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(onlyCart.errors?.[0]?.message).toMatch(/^2 of these 2 cells are CAR-T calls/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);

    // Left out, the others are confirmed together; each CAR-T call alone, as one looked at alone.
    const together = await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, others) });
    expect(together.confirmCells).toHaveLength(7);
    for (const id of cart) {
      const r = await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [id]) });
      expect(r.confirmCells[0]).toMatchObject({ id, currentLabel: "car_t", reviewCount: 1 });
      const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: id, action: "cell.confirm" } });
      expect(event.after).not.toHaveProperty("bulk");
    }
    expect(await api.prisma.review.count({ where: { cellId: { in: cart }, action: "CONFIRM", label: "car_t" } })).toBe(2);
  });

  it("refuses in bulk a label that a confident AI call contradicts (a CAR-T call reclassified lymphocyte), as the dashboard leaves it out", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 2 });
    // Cell 0: a confident CAR-T call, reclassified lymphocyte by a first look.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "car_t", label: "lymphocyte", reason: "no CAR-T features on this one" } });
    expect([...(await bulkConfirmableCells(api.prisma, cellIds))]).toEqual([cellIds[1]!]);
    const before = await databaseFingerprint(api.prisma);
    // Confirming "lymphocyte" with the CAR-T call's 80% behind it, unseen, is refused: that call is evidence against it.
    const bulk = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds) });
    expect(bulk.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(bulk.errors?.[0]?.message).toMatch(/^1 of these 2 cells have no AI call of at least 80% confidence for the label being confirmed: confirm those one by one/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
  });

  it("records a gallery group's last cell, confirmed with the group's button (asGroup), as a bulk confirmation held to the bulk rules", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    const GROUP = `mutation($cells: [ConfirmCellInput!]!) { confirmCells(cells: $cells, asGroup: true) { id } }`;
    // Cell 1: a confident lymphocyte call, alone in its group.
    await api.gqlOk(hema, GROUP, { cells: await confirmAsSeen(api.prisma, [cellIds[1]!]) });
    expect(await api.prisma.review.findFirstOrThrow({ where: { cellId: cellIds[1]! } })).toMatchObject({ action: "CONFIRM", bulkSize: 1 });
    expect((await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: cellIds[1]!, action: "cell.confirm" } })).after).toMatchObject({ bulk: 1 });
    // The bulk rules hold for a group of one: a CAR-T call (cell 0) and an abstention (cell 9) are refused, nothing written.
    const before = await databaseFingerprint(api.prisma);
    for (const id of [cellIds[0]!, cellIds[9]!]) {
      const r = await api.gql(hema, GROUP, { cells: await confirmAsSeen(api.prisma, [id], { reason: "seen" }) });
      expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("refuses CAR-T calls in bulk however a model spells the class", async () => {
    const model = await insertModelVersion(api.prisma, { labels: ["CAR-T", "lymphocyte"] });
    // Labels alternate CAR-T, lymphocyte: cells 0 and 2 are CAR-T calls.
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4, model });
    const { reviewPolicy } = await api.gqlOk(hema, `{ reviewPolicy { bulkExcludedLabels } }`);
    expect(reviewPolicy.bulkExcludedLabels).toEqual(expect.arrayContaining(["CAR-T", "car_t"]));
    expect(reviewPolicy.bulkExcludedLabels).not.toContain("lymphocyte");
    const before = await databaseFingerprint(api.prisma);
    const bulk = await api.gql(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, cellIds.slice(0, 2)) });
    expect(bulk.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", excludedCells: 1 });
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    expect([...(await bulkConfirmableCells(api.prisma, cellIds))].sort()).toEqual([cellIds[1]!, cellIds[3]!].sort());
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[1]!, cellIds[3]!]) });
    await api.gqlOk(hema, CONFIRM, { cells: await confirmAsSeen(api.prisma, [cellIds[0]!]) });
  });

  it("makes a cell unidentified only with a reason, even back to what the AI said", async () => {
    const { cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 10 });
    // Cell 9 abstained (shown unidentified); a reviewer called it a lymphocyte, and now goes back.
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[9], expectedReviewCount: 0, expectedLabel: "unidentified", label: "lymphocyte", reason: "clear nucleus" } });
    const before = await databaseFingerprint(api.prisma);
    const bare = await api.gql(hema, RECLASSIFY, { input: { cellId: cellIds[9], expectedReviewCount: 1, expectedLabel: "lymphocyte", label: "unidentified" } });
    expect(bare.errors?.[0]?.message).toMatch(/reason is required to leave a cell unidentified/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[9], expectedReviewCount: 1, expectedLabel: "lymphocyte", label: "unidentified", reason: "too damaged to call" } });
  });

  it("reports the differential count of a case", async () => {
    const { kase, cellIds } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 20 });
    await api.gqlOk(hema, RECLASSIFY, { input: { cellId: cellIds[0], expectedReviewCount: 0, expectedLabel: "car_t", label: "artifact", reason: "debris" } });
    const d = await api.gqlOk(hema, `query($id: ID!) { case(id: $id) { cellCount reviewedCount differential { total counted artifacts unreviewed cartCount cartPercent cartPercentCi95 belowMinimum excluded { label count } rows { label count percent } } } }`, { id: kase.id });
    // 20 cells: labels cycle over 5 classes, #9 and #19 abstain (unidentified); cell 0 -> artifact.
    // White cells only in the denominator: 20 - 1 artifact - 2 unidentified = 17.
    expect(d.case.cellCount).toBe(20);
    expect(d.case.reviewedCount).toBe(1);
    expect(d.case.differential).toMatchObject({ total: 20, counted: 17, artifacts: 1, unreviewed: 19, cartCount: 3, belowMinimum: true });
    expect(d.case.differential.excluded).toEqual([{ label: "artifact", count: 1 }, { label: "unidentified", count: 2 }]);
    // To the tenth, rounded so that the rows add up to 100.
    expect(Math.abs(d.case.differential.cartPercent - (100 * 3) / 17)).toBeLessThanOrEqual(0.1);
    expect(d.case.differential.cartPercentCi95).toHaveLength(2);
  });

  it("counts a case's images whose analysis failed, whose cells the count leaves out", async () => {
    const { kase, slideId } = await seedReviewableCase(api.prisma, { createdById: techId, cells: 4 });
    const COUNTS = `query($id: ID!) { case(id: $id) { cellCount failedImageCount } }`;
    expect((await api.gqlOk(hema, COUNTS, { id: kase.id })).case).toEqual({ cellCount: 4, failedImageCount: 0 });
    await api.prisma.slide.update({ where: { id: slideId }, data: { analysisStatus: "FAILED", analysisError: "analysis failed" } });
    expect((await api.gqlOk(hema, COUNTS, { id: kase.id })).case).toEqual({ cellCount: 0, failedImageCount: 1 });
  });
});
