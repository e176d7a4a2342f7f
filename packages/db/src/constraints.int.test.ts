import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "./audit.ts";
import { createTestDatabase, signCaseForTest, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function seedCellWithPrediction() {
  const p = db.prisma;
  const user = await p.user.create({
    data: { login: `tech${Math.random()}`, displayName: "T", passwordHash: "h", role: "TECHNICIAN" },
  });
  const kase = await p.case.create({ data: { accession: `ACC-${Math.random()}`, createdById: user.id } });
  const slide = await p.slide.create({
    data: {
      caseId: kase.id, imageSha256: "a".repeat(64), mimeType: "image/png", byteSize: 10,
      width: 640, height: 480, uploadedById: user.id,
    },
  });
  const cell = await p.cell.create({
    data: { slideId: slide.id, x: 1, y: 2, width: 30, height: 30, cropSha256: "b".repeat(64) },
  });
  const model = await p.modelVersion.create({
    data: {
      name: `m${Math.random()}`, version: "1", labels: ["car_t", "other"], inputSize: 64,
      normalization: {}, architecture: {}, metrics: {}, artifactPath: "/m", artifactSha256: "c".repeat(64),
    },
  });
  const prediction = await p.prediction.create({
    data: { cellId: cell.id, modelVersionId: model.id, label: "car_t", probabilities: { car_t: 0.9, other: 0.1 }, confidence: 0.9 },
  });
  return { user, kase, slide, cell, model, prediction };
}

describe("database constraints", () => {
  it("refuses a duplicate accession", async () => {
    const { user, kase } = await seedCellWithPrediction();
    await expect(
      db.prisma.case.create({ data: { accession: kase.accession, createdById: user.id } }),
    ).rejects.toThrow(/Unique constraint/);
  });

  it("refuses a foreign key to nothing", async () => {
    await expect(
      db.prisma.case.create({
        data: { accession: "ACC-orphan", createdById: "00000000-0000-0000-0000-000000000000" },
      }),
    ).rejects.toThrow(/Foreign key constraint/);
    expect(await db.prisma.case.count({ where: { accession: "ACC-orphan" } })).toBe(0);
  });

  it("refuses UPDATE and DELETE of a prediction, leaving it unchanged", async () => {
    const { prediction } = await seedCellWithPrediction();
    await expect(
      db.prisma.prediction.update({ where: { id: prediction.id }, data: { label: "other" } }),
    ).rejects.toThrow(/append-only/);
    await expect(db.prisma.prediction.delete({ where: { id: prediction.id } })).rejects.toThrow(/append-only/);
    await expect(db.prisma.$executeRawUnsafe(`TRUNCATE "prediction" CASCADE`)).rejects.toThrow(/append-only/);
    expect(await db.prisma.prediction.findUnique({ where: { id: prediction.id } })).toEqual(prediction);
  });

  it("refuses changing what a case, slide or cell is, or deleting one; workflow state still moves", async () => {
    const { kase, slide, cell } = await seedCellWithPrediction();
    const p = db.prisma;
    const refused = /identity of a .* refused/;
    await expect(p.cell.update({ where: { id: cell.id }, data: { x: 99 } })).rejects.toThrow(refused);
    await expect(p.cell.update({ where: { id: cell.id }, data: { cropSha256: "d".repeat(64) } })).rejects.toThrow(refused);
    await expect(p.slide.update({ where: { id: slide.id }, data: { imageSha256: "e".repeat(64) } })).rejects.toThrow(refused);
    // A slide stored before pixel hashes may be given one, once; never another.
    await p.slide.update({ where: { id: slide.id }, data: { pixelSha256: "f".repeat(64) } });
    await expect(p.slide.update({ where: { id: slide.id }, data: { pixelSha256: "0".repeat(64) } })).rejects.toThrow(refused);
    await expect(p.slide.update({ where: { id: slide.id }, data: { pixelSha256: null } })).rejects.toThrow(refused);
    await expect(p.case.update({ where: { id: kase.id }, data: { accession: "ACC-renamed" } })).rejects.toThrow(refused);
    await expect(p.cell.delete({ where: { id: cell.id } })).rejects.toThrow(refused);
    await expect(p.$executeRawUnsafe(`TRUNCATE "cell" CASCADE`)).rejects.toThrow(refused);
    await expect(p.$executeRawUnsafe(`TRUNCATE "dataset_item"`)).rejects.toThrow(/append-only/);
    expect(await p.cell.findUniqueOrThrow({ where: { id: cell.id } })).toMatchObject({ x: 1, cropSha256: "b".repeat(64) });
    // The workflow columns the application writes are untouched by the guards.
    await p.cell.update({ where: { id: cell.id }, data: { currentLabel: "car_t", reviewCount: 1 } });
    await p.slide.update({ where: { id: slide.id }, data: { analysisStatus: "DONE" } });
    await p.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW", patientRef: "MRN-2" } });
    // Signed, the details its report signed stay as signed until an amendment reopens the case.
    await signCaseForTest(p, kase.id);
    for (const data of [
      { patientRef: "MRN-3" },
      { wbcCount: 9 },
      { specimen: "bone marrow aspirate" },
      { priority: "STAT" as const },
      { reportVersion: 2 },
      // Not even with the status: only reopening it, alone, is allowed.
      { status: "IN_REVIEW" as const, patientRef: "MRN-3" },
      { status: "AMENDED" as const, reportVersion: 2 },
    ]) {
      await expect(p.case.update({ where: { id: kase.id }, data }), JSON.stringify(data)).rejects.toThrow(refused);
    }
    // Nor a new cell or human decision.
    await expect(p.cell.create({ data: { slideId: slide.id, x: 5, y: 5, width: 30, height: 30, cropSha256: "c".repeat(64) } })).rejects.toThrow(/new "cell" row on signed case/);
    await expect(
      p.review.create({ data: { cellId: cell.id, seq: 2, reviewerId: kase.createdById, action: "CONFIRM", label: "car_t" } }),
    ).rejects.toThrow(/new "review" row on signed case/);
    await p.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
    await p.case.update({ where: { id: kase.id }, data: { patientRef: "MRN-3" } });
    await p.review.create({ data: { cellId: cell.id, seq: 2, reviewerId: kase.createdById, action: "CONFIRM", label: "car_t" } });
  });

  it("refuses changing what a model version is, or deleting model provenance; status and evaluations still move", async () => {
    const { model, user } = await seedCellWithPrediction();
    const p = db.prisma;
    const refused = /identity of a .* refused/;
    await expect(p.modelVersion.update({ where: { id: model.id }, data: { labels: ["other", "car_t"] } })).rejects.toThrow(refused);
    await expect(p.modelVersion.update({ where: { id: model.id }, data: { artifactSha256: "d".repeat(64) } })).rejects.toThrow(refused);
    await expect(p.modelVersion.delete({ where: { id: model.id } })).rejects.toThrow(refused);
    await expect(p.$executeRawUnsafe(`TRUNCATE "model_version" CASCADE`)).rejects.toThrow(refused);
    const snapshot = await p.datasetSnapshot.create({ data: { name: "s", labels: ["car_t"], itemCount: 0, contentHash: "h", createdById: user.id } });
    const run = await p.trainingRun.create({ data: { snapshotId: snapshot.id, config: {}, startedById: user.id } });
    await expect(p.trainingRun.delete({ where: { id: run.id } })).rejects.toThrow(refused);
    await expect(p.datasetSnapshot.delete({ where: { id: snapshot.id } })).rejects.toThrow(refused);
    // Frozen at creation: its labels are the class set the next model trains on.
    await expect(p.datasetSnapshot.update({ where: { id: snapshot.id }, data: { labels: ["x"] } })).rejects.toThrow(refused);
    const promotion = await p.modelPromotion.create({ data: { modelVersionId: model.id, kind: "PROMOTE", reason: "better", proposedById: user.id } });
    await p.modelPromotion.update({ where: { id: promotion.id }, data: { state: "REJECTED", decidedById: user.id, decidedAt: new Date(), decisionNote: "no" } });
    await expect(p.modelPromotion.update({ where: { id: promotion.id }, data: { state: "APPROVED" } })).rejects.toThrow(refused);
    await expect(p.modelPromotion.delete({ where: { id: promotion.id } })).rejects.toThrow(refused);
    await expect(p.trainingRun.update({ where: { id: run.id }, data: { config: { epochs: 99 } } })).rejects.toThrow(refused);
    // What the platform does: a model's status and evaluations move, a run's progress and status.
    await p.modelVersion.update({ where: { id: model.id }, data: { status: "CHAMPION", metrics: { evaluations: {} } } });
    await p.trainingRun.update({ where: { id: run.id }, data: { status: "RUNNING", progress: 0.5, log: "epoch 1" } });
    // Its run is named at registration, never attached afterwards.
    await expect(p.modelVersion.update({ where: { id: model.id }, data: { trainingRunId: run.id } })).rejects.toThrow(refused);
  });

  it("refuses a second review with the same sequence number (optimistic concurrency)", async () => {
    const { user, cell } = await seedCellWithPrediction();
    const review = { cellId: cell.id, seq: 1, reviewerId: user.id, action: "CONFIRM" as const, label: "car_t" };
    await db.prisma.review.create({ data: review });
    await expect(db.prisma.review.create({ data: { ...review, label: "other" } })).rejects.toThrow(/Unique constraint/);
  });

  it("chains audit events, refuses rewriting them, and detects tampering by a superuser", async () => {
    const { user } = await seedCellWithPrediction();
    for (let i = 0; i < 3; i++) {
      await db.prisma.auditEvent.create({
        data: {
          actorId: user.id, actorLogin: user.login, action: "case.create", entityType: "Case",
          entityId: `case-${i}`, after: { n: i, note: "née | quoted \"x\"" },
        },
      });
    }
    const events = await db.prisma.auditEvent.findMany({ orderBy: { seq: "asc" } });
    expect(events.map((e) => Number(e.seq))).toEqual([1, 2, 3]);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, checked: 3, firstBrokenSeq: null, problem: null });

    await expect(
      db.prisma.auditEvent.update({ where: { seq: 2n }, data: { reason: "rewrite" } }),
    ).rejects.toThrow(/append-only/);
    await expect(db.prisma.auditEvent.delete({ where: { seq: 3n } })).rejects.toThrow(/append-only/);

    // A superuser can switch triggers off; the chain still exposes the edit.
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`UPDATE "audit_event" SET "after" = '{"n": 99}' WHERE seq = 2`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const status = await verifyAuditChain(db.prisma);
    expect(status).toMatchObject({ ok: false, checked: 1, firstBrokenSeq: 2 });
    expect(status.problem).toMatch(/altered/);

    // Altered and given a recomputed hash, event 2 checks out alone; the break shows at event 3,
    // and event 2 is named, not counted as verified.
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" DISABLE TRIGGER audit_event_append_only`),
      db.prisma.$executeRawUnsafe(`UPDATE "audit_event" a SET "hash" = audit_event_hash(a) WHERE seq = 2`),
      db.prisma.$executeRawUnsafe(`ALTER TABLE "audit_event" ENABLE TRIGGER audit_event_append_only`),
    ]);
    const rehashed = await verifyAuditChain(db.prisma);
    expect(rehashed).toMatchObject({ ok: false, checked: 1, firstBrokenSeq: 2 });
    expect(rehashed.problem).toMatch(/event 3 does not link to the hash of event 2: event 2 was altered and its hash recomputed/);
  });

  it("stamps audit events with the database's clock, whatever time the writer sends", async () => {
    const start = Date.now();
    const backdated = await db.prisma.auditEvent.create({
      data: { actorLogin: "system", action: "case.create", entityType: "Case", entityId: "backdated", at: new Date("2001-01-01T00:00:00Z") },
    });
    expect(backdated.at.getTime()).toBeGreaterThan(start - 60_000);
    const later = await db.prisma.auditEvent.create({ data: { actorLogin: "system", action: "case.create", entityType: "Case", entityId: "later" } });
    expect(later.at.getTime()).toBeGreaterThanOrEqual(backdated.at.getTime());
    // The hash covers the time the trigger wrote, to the stored millisecond.
    const rehashed = await db.prisma.$queryRaw<{ same: boolean }[]>`
      SELECT audit_event_hash(e) = e.hash AS same FROM audit_event e WHERE seq IN (${backdated.seq}, ${later.seq})`;
    expect(rehashed).toEqual([{ same: true }, { same: true }]);
  });

  it("assigns audit sequence numbers without gaps under concurrent writers", async () => {
    const before = await db.prisma.auditEvent.count();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        db.prisma.$transaction(async (tx) => {
          await tx.auditEvent.create({
            data: { actorLogin: "system", action: "job.run", entityType: "Job", entityId: `j${i}` },
          });
        }),
      ),
    );
    const seqs = (await db.prisma.auditEvent.findMany({ orderBy: { seq: "asc" }, select: { seq: true } })).map((e) => Number(e.seq));
    expect(seqs).toEqual(Array.from({ length: before + 12 }, (_, i) => i + 1));
  });
});
