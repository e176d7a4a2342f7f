// repredictOpenCases on a real PostgreSQL with the real model code: a champion change predicts
// again the undecided cells of open cases, and nothing else; analyzeSlide leaves no gap.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore, type ModelVersion, type Prediction, type User } from "@rcmnet/db";
import { createTestDatabase, signCaseForTest, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthUser } from "../../context.ts";
import { setChampion } from "../../modules/models/setChampion.ts";
import { reclassifyCell } from "../../modules/review/reclassifyCell.ts";
import { enqueueSlideAnalysis } from "../analysisJobs.ts";
import { silentLogger } from "../logger.ts";
import { ClassifierCache } from "../model/classifierCache.ts";
import { getModelRuntime, synthDemoField } from "../model/modelRuntime.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import { claimJob, enqueueJob } from "../queue.ts";
import { registerTestModel } from "../testing/registerTestModel.ts";
import { runJobs as runWorkerUntilIdle } from "../testing/runJobs.ts";
import { tinyModelDir } from "../testing/tinyModel.ts";
import type { JobContext } from "../types.ts";
import { createHandlers } from "./index.ts";
import { auditWhere, listAuditEvents, type AuditFilter } from "../../modules/audit/listAuditEvents.ts";

let db: TestDatabase;
let dataDir: string;
let blobs: BlobStore;
let runtime: ModelRuntime;
let tech: User;
let hema: AuthUser;
/** The tiny model's folder, copied with a card that abstains on every cell: its calls are all "unidentified". */
let abstainingDir: string;
let versions = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-repredict-"));
  blobs = new BlobStore(join(dataDir, "blobs"));
  runtime = await getModelRuntime();
  tech = await db.prisma.user.create({ data: { login: "tech", displayName: "T", role: "TECHNICIAN", passwordHash: "x" } });
  const h = await db.prisma.user.create({ data: { login: "hema", displayName: "H", role: "HEMATOLOGIST", passwordHash: "x" } });
  hema = { id: h.id, login: h.login, displayName: h.displayName, role: h.role };
  const dir = await tinyModelDir(1);
  abstainingDir = join(dataDir, "abstaining-model");
  await cp(dir, abstainingDir, { recursive: true });
  const card = JSON.parse(await readFile(join(abstainingDir, "model-card.json"), "utf8"));
  await writeFile(join(abstainingDir, "model-card.json"), JSON.stringify({ ...card, abstainThreshold: 1 }));
  await registerTestModel(db.prisma, dir, "CHAMPION", "first");
}, 120_000);
afterAll(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const runJobs = (types?: string[]) => runWorkerUntilIdle({ prisma: db.prisma, blobs, dataDir, runtime, ...(types ? { types } : {}) });

/** A new model version (the tiny model, or its always-abstaining copy), made champion as an approval does. */
async function crown(options: { abstains?: boolean; model?: ModelVersion } = {}): Promise<ModelVersion> {
  const model = options.model ?? (await registerTestModel(db.prisma, options.abstains ? abstainingDir : await tinyModelDir(1), "CANDIDATE", `v${++versions}`));
  await db.prisma.$transaction((tx) => setChampion(tx, null, model, "test"));
  return db.prisma.modelVersion.findUniqueOrThrow({ where: { id: model.id } });
}

/**
 * A case whose smear fields are analysed by the champion of the moment (the worker runs them).
 * Re-prediction takes STAT cases first, then URGENT: a test that acts while a job runs gives its
 * case a priority above the earlier tests' so that the job starts with it.
 */
async function analysedCase(accession: string, seeds: number[], priority: "ROUTINE" | "URGENT" | "STAT" = "ROUTINE") {
  const kase = await db.prisma.case.create({ data: { accession, createdById: tech.id, priority } });
  const slides = [];
  for (const seed of seeds) {
    const bytes = (await synthDemoField(seed)).bytes;
    const sha = await blobs.put(bytes);
    const size = await runtime.imageSize(bytes);
    slides.push(
      await db.prisma.$transaction(async (tx) => {
        const slide = await tx.slide.create({ data: { caseId: kase.id, imageSha256: sha, mimeType: "image/jpeg", byteSize: bytes.length, ...size, uploadedById: tech.id } });
        await enqueueSlideAnalysis(tx, slide.id);
        return slide;
      }),
    );
  }
  await runJobs();
  expect((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
  return { kase, slides };
}

/** Every prediction on the cells of these slides, in a stable order. */
function predictionsOf(slideIds: string[]): Promise<Prediction[]> {
  return db.prisma.prediction.findMany({ where: { cell: { slideId: { in: slideIds } } }, orderBy: { id: "asc" } });
}

/** A human decision, through the API's own service, on the label the cell shows now. */
async function decide(cellId: string) {
  const { currentLabel } = await db.prisma.cell.findUniqueOrThrow({ where: { id: cellId } });
  await reclassifyCell(db.prisma, hema, { cellId, expectedReviewCount: 0, expectedLabel: currentLabel, label: "artifact", reason: "stain debris" });
}

/** The queued re-prediction job of a model, claimed and run outside the worker loop; `progress` is its heartbeat. */
async function runClaimed(model: ModelVersion, progress: (value: number) => Promise<void>) {
  const job = await db.prisma.job.findFirstOrThrow({ where: { type: "repredictOpenCases", status: "QUEUED", payload: { path: ["modelVersionId"], equals: model.id } } });
  // Older queued jobs first (claim order), so that the one wanted is the one claimed.
  await db.prisma.job.updateMany({ where: { status: "QUEUED", id: { not: job.id } }, data: { runAfter: new Date(Date.now() + 3_600_000) } });
  const claimed = await claimJob(db.prisma, { workerId: "test", types: ["repredictOpenCases"], leaseMs: 60_000 });
  expect(claimed?.id).toBe(job.id);
  const handler = createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }).repredictOpenCases!;
  const ctx: JobContext = { prisma: db.prisma, blobs, dataDir, log: silentLogger, job: claimed!, workerId: "test", signal: new AbortController().signal, progress };
  await handler(ctx);
  await db.prisma.job.update({ where: { id: job.id }, data: { status: "SUCCEEDED", lockedBy: null } });
  await db.prisma.job.updateMany({ where: { status: "QUEUED" }, data: { runAfter: new Date() } });
}

describe("repredictOpenCases", () => {
  it("predicts again the undecided cells of open cases only; decided cells, signed cases and voided images keep what they had", async () => {
    const open = await analysedCase("R-OPEN", [41, 42]);
    const signed = await analysedCase("R-SIGNED", [43]);
    const [kept, voided] = open.slides;
    const keptCells = await db.prisma.cell.findMany({ where: { slideId: kept!.id }, orderBy: { id: "asc" } });
    expect(keptCells.length).toBeGreaterThan(2);
    await decide(keptCells[0]!.id);
    await db.prisma.slide.update({ where: { id: voided!.id }, data: { voidedAt: new Date(), voidedById: tech.id, voidReason: "blurred field" } });
    // Signed as it stood (the filter is the point here: sign-off would need every cell decided).
    await signCaseForTest(db.prisma, signed.kase.id);
    const allSlides = [kept!.id, voided!.id, signed.slides[0]!.id];
    const before = await predictionsOf(allSlides);
    const untouched = await db.prisma.cell.findMany({ where: { OR: [{ slideId: { in: [voided!.id, signed.slides[0]!.id] } }, { id: keptCells[0]!.id }] }, orderBy: { id: "asc" } });

    const next = await crown({ abstains: true });
    // Enqueued with the change, one per reign of the model.
    const job = await db.prisma.job.findUniqueOrThrow({ where: { dedupeKey: `repredictOpenCases:${next.id}:1` } });
    expect(job).toMatchObject({ type: "repredictOpenCases", status: "QUEUED", payload: { modelVersionId: next.id } });
    await runJobs();
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "SUCCEEDED", attempts: 1 });

    // Old predictions are all still there, unchanged (append-only).
    const after = await predictionsOf(allSlides);
    expect(after.filter((p) => before.some((b) => b.id === p.id))).toEqual(before);
    // Each undecided cell of the open case has the new champion's call, newest, and shows it.
    const undecided = await db.prisma.cell.findMany({
      where: { slideId: kept!.id, reviewCount: 0 },
      include: { predictions: { orderBy: { createdAt: "desc" } } },
    });
    expect(undecided).toHaveLength(keptCells.length - 1);
    for (const cell of undecided) {
      expect(cell.predictions).toHaveLength(2);
      expect(cell.predictions[0]).toMatchObject({ modelVersionId: next.id, abstained: true });
      expect(cell.currentLabel).toBe("unidentified");
    }
    // The decided cell, the voided image's cells and the signed case's: no new prediction, same label.
    const newOnes = after.filter((p) => !before.some((b) => b.id === p.id));
    expect(newOnes).toHaveLength(undecided.length);
    expect(new Set(newOnes.map((p) => p.cellId))).toEqual(new Set(undecided.map((c) => c.id)));
    expect(await db.prisma.cell.findMany({ where: { id: { in: untouched.map((c) => c.id) } }, orderBy: { id: "asc" } })).toEqual(untouched);

    // One audit event per case touched, by the system, saying which model and how many cells.
    const events = await db.prisma.auditEvent.findMany({ where: { action: "case.repredict" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorLogin: "system", entityType: "Case", entityId: open.kase.id });
    const changed = keptCells.slice(1).filter((c) => c.currentLabel !== "unidentified").length;
    expect(events[0]!.after).toMatchObject({ modelVersionId: next.id, cells: undecided.length, labelsChanged: changed, jobId: job.id });
    // Which cells, and each label that moved, from what to what.
    const recorded = events[0]!.after as { cellIds: string[]; changes: { cellId: string; from: string; to: string }[] };
    expect([...recorded.cellIds].sort()).toEqual(undecided.map((c) => c.id).sort());
    expect(recorded.changes).toEqual(
      expect.arrayContaining(keptCells.slice(1).filter((c) => c.currentLabel !== "unidentified").map((c) => ({ cellId: c.id, from: c.currentLabel, to: "unidentified" }))),
    );
    expect(recorded.changes).toHaveLength(changed);

    // A retry (the same job run again after a crash) adds nothing.
    const counts = async () => ({ predictions: await db.prisma.prediction.count(), audit: await db.prisma.auditEvent.count({ where: { action: "case.repredict" } }) });
    const done = await counts();
    await enqueueJob(db.prisma, { type: "repredictOpenCases", payload: { modelVersionId: next.id } });
    await runJobs();
    expect(await counts()).toEqual(done);
  }, 180_000);

  it("puts a label it changes in the cell's own trail (auditTrail by the cell's id) and the model's", async () => {
    const { kase, slides } = await analysedCase("R-TRAIL", [52]);
    const cells = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id }, orderBy: { id: "asc" } });
    expect(cells.length).toBeGreaterThan(2);
    // As an earlier model might have called it (the tiny one abstains: "unidentified").
    await db.prisma.cell.update({ where: { id: cells[0]!.id }, data: { currentLabel: "lymphocyte" } });
    // A decided cell is not predicted again.
    const decided = cells.at(-1)!;
    await decide(decided.id);
    const model = await crown({ abstains: true });
    await runJobs();
    const event = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.repredict", entityId: kase.id, after: { path: ["modelVersionId"], equals: model.id } } });
    expect((event.after as { changes: unknown[] }).changes).toEqual([{ cellId: cells[0]!.id, from: "lymphocyte", to: "unidentified" }]);

    const trail = async (filter: AuditFilter) => (await listAuditEvents(db.prisma, filter, { first: 500 })).nodes.map((n) => n.seq);
    // The cell whose label moved, and one predicted again without a change (listed in cellIds).
    for (const cell of [cells[0]!, cells[1]!]) {
      expect(await trail({ entityId: cell.id })).toContain(event.seq);
      expect(await trail({ entityId: cell.id, entityType: "Cell" })).toContain(event.seq);
      expect(await trail({ entityId: cell.id, entityType: "Slide" })).not.toContain(event.seq);
    }
    // The model's trail holds what it predicted again; the decided cell's, another model's do not.
    expect(await trail({ entityId: model.id })).toContain(event.seq);
    expect(await trail({ entityId: model.id, entityType: "ModelVersion" })).toContain(event.seq);
    expect(await trail({ entityId: decided.id })).not.toContain(event.seq);
    const first = await db.prisma.modelVersion.findFirstOrThrow({ where: { version: "first" } });
    expect(await trail({ entityId: first.id })).not.toContain(event.seq);
    // The same through the export's filter.
    expect(await db.prisma.auditEvent.count({ where: await auditWhere(db.prisma, { entityId: cells[0]!.id }) })).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it("a job whose model is no longer champion when it runs writes nothing; the next champion's job does the work", async () => {
    const { slides } = await analysedCase("R-SUPERSEDED", [44]);
    const skipped = await crown();
    const last = await crown({ abstains: true });
    const audit = await db.prisma.auditEvent.count({ where: { action: "case.repredict" } });
    await runJobs();
    expect(await db.prisma.job.findFirstOrThrow({ where: { dedupeKey: `repredictOpenCases:${skipped.id}:1` } })).toMatchObject({ status: "SUCCEEDED" });
    expect(await db.prisma.prediction.count({ where: { modelVersionId: skipped.id } })).toBe(0);
    const cells = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id }, include: { predictions: { orderBy: { createdAt: "desc" }, take: 1 } } });
    expect(cells.every((c) => c.predictions[0]!.modelVersionId === last.id && c.currentLabel === "unidentified")).toBe(true);
    const events = await db.prisma.auditEvent.findMany({ where: { action: "case.repredict" }, orderBy: { seq: "asc" }, skip: audit });
    expect(events.map((e) => (e.after as { modelVersionId: string }).modelVersionId)).toEqual(expect.arrayContaining([last.id]));
    expect(events.every((e) => (e.after as { modelVersionId: string }).modelVersionId === last.id)).toBe(true);
  }, 180_000);

  it("a version rolled back to gets a job of its own (dedupe key per reign)", async () => {
    // Registered as champion (no setChampion), so its first crowning event is the rollback's.
    const first = await db.prisma.modelVersion.findFirstOrThrow({ where: { version: "first" } });
    await crown({ model: first });
    await crown();
    await crown({ model: first });
    const jobs = await db.prisma.job.findMany({ where: { type: "repredictOpenCases", payload: { path: ["modelVersionId"], equals: first.id } }, orderBy: { createdAt: "asc" } });
    expect(jobs.map((j) => j.dedupeKey)).toEqual([`repredictOpenCases:${first.id}:1`, `repredictOpenCases:${first.id}:2`]);
    await runJobs();
    expect(await db.prisma.job.count({ where: { id: { in: jobs.map((j) => j.id) }, status: "SUCCEEDED" } })).toBe(2);
  }, 180_000);

  it("after a rollback the restored model calls its earlier cells anew (round 2), so no withdrawn call stays newest", async () => {
    const restored = await crown();
    await runJobs();
    const { slides } = await analysedCase("R-ROLLBACK", [46]);
    const cells = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id }, orderBy: { id: "asc" } });
    expect(cells.length).toBeGreaterThan(1);
    const firstCalls = await predictionsOf([slides[0]!.id]);
    expect(firstCalls.every((p) => p.modelVersionId === restored.id && p.round === 1)).toBe(true);
    const withdrawn = await crown({ abstains: true });
    await runJobs();
    await decide(cells[0]!.id);
    const decided = await db.prisma.cell.findUniqueOrThrow({ where: { id: cells[0]!.id } });

    await crown({ model: restored });
    await runJobs();
    const after = await db.prisma.cell.findMany({
      where: { slideId: slides[0]!.id },
      include: { predictions: { orderBy: [{ createdAt: "desc" }, { id: "desc" }] } },
      orderBy: { id: "asc" },
    });
    for (const cell of after.slice(1)) {
      // A (round 1), then the withdrawn model, then A again, newest, with A's label back.
      expect(cell.predictions.map((p) => [p.modelVersionId, p.round])).toEqual([
        [restored.id, 2],
        [withdrawn.id, 1],
        [restored.id, 1],
      ]);
      const first = firstCalls.find((p) => p.cellId === cell.id)!;
      expect(cell.predictions[0]).toMatchObject({ label: first.label, abstained: first.abstained });
      expect(cell.currentLabel).toBe(first.abstained ? "unidentified" : first.label);
    }
    // The decided cell keeps its decision, and gets no new call.
    expect(after[0]!.predictions.map((p) => p.modelVersionId)).toEqual([withdrawn.id, restored.id]);
    expect(after[0]).toMatchObject({ currentLabel: decided.currentLabel, reviewCount: 1 });
  }, 180_000);

  it("stops without writing when the champion changes while it runs, and spares a cell a human decides meanwhile", async () => {
    const { kase, slides } = await analysedCase("R-MIDWAY", [45], "URGENT");
    const cells = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id }, orderBy: { id: "asc" } });
    const model = await crown({ abstains: true });
    const before = { predictions: await db.prisma.prediction.count(), audit: await db.prisma.auditEvent.count({ where: { action: "case.repredict" } }) };

    // The champion changes after the model has classified the cells, before they are written.
    let replaced: ModelVersion | undefined;
    await runClaimed(model, async () => {
      replaced ??= await crown();
    });
    expect(replaced).toBeDefined();
    expect(await db.prisma.prediction.count()).toBe(before.predictions);
    expect(await db.prisma.auditEvent.count({ where: { action: "case.repredict" } })).toBe(before.audit);
    await runJobs(); // the replacement's own job

    // Again, now a hematologist decides a cell while the model runs: it keeps the decision and gets no prediction.
    const again = await crown({ abstains: true });
    let decided = false;
    await runClaimed(again, async () => {
      if (decided) return;
      decided = true;
      await decide(cells[1]!.id);
    });
    const spared = await db.prisma.cell.findUniqueOrThrow({ where: { id: cells[1]!.id }, include: { predictions: true } });
    expect(spared).toMatchObject({ currentLabel: "artifact", reviewCount: 1 });
    expect(spared.predictions.some((p) => p.modelVersionId === again.id)).toBe(false);
    const rest = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id, reviewCount: 0 }, include: { predictions: { where: { modelVersionId: again.id } } } });
    expect(rest).toHaveLength(cells.length - 1);
    expect(rest.every((c) => c.predictions.length === 1 && c.currentLabel === "unidentified")).toBe(true);
    const event = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: "case.repredict", entityId: kase.id }, orderBy: { seq: "desc" } });
    expect(event.after).toMatchObject({ modelVersionId: again.id, cells: cells.length - 1 });
  }, 180_000);

  it("writes nothing into a case signed while the model runs", async () => {
    const { kase, slides } = await analysedCase("R-SIGNED-MIDWAY", [46], "STAT");
    const model = await crown();
    // Signed once the model has classified (some of) its cells, before they are written.
    await runClaimed(model, async () => {
      // Once (progress is reported more than once), with its signature as the database requires.
      if ((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status === "IN_REVIEW") await signCaseForTest(db.prisma, kase.id);
    });
    expect(await db.prisma.prediction.count({ where: { modelVersionId: model.id, cell: { slideId: slides[0]!.id } } })).toBe(0);
    expect(await db.prisma.auditEvent.count({ where: { action: "case.repredict", entityId: kase.id, after: { path: ["modelVersionId"], equals: model.id } } })).toBe(0);
  }, 180_000);
  it("steps back between cases for a slide analysis queued meanwhile, then finishes, no attempt spent", async () => {
    const first = await analysedCase("R-YIELD-1", [48], "STAT");
    const second = await analysedCase("R-YIELD-2", [49], "STAT");
    const model = await crown({ abstains: true });
    const job = await db.prisma.job.findFirstOrThrow({ where: { type: "repredictOpenCases", status: "QUEUED", payload: { path: ["modelVersionId"], equals: model.id } } });
    // A smear uploaded after the change: its analysis is queued behind the re-prediction.
    const waiting = await db.prisma.case.create({ data: { accession: "R-YIELD-NEW", createdById: tech.id } });
    const bytes = (await synthDemoField(50)).bytes;
    const sha = await blobs.put(bytes);
    const slide = await db.prisma.$transaction(async (tx) => {
      const s = await tx.slide.create({ data: { caseId: waiting.id, imageSha256: sha, mimeType: "image/jpeg", byteSize: bytes.length, ...(await runtime.imageSize(bytes)), uploadedById: tech.id } });
      await enqueueSlideAnalysis(tx, s.id);
      return s;
    });
    const from = await db.prisma.auditEvent.aggregate({ _max: { seq: true } });
    await runJobs();

    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    const ours = [first.kase.id, second.kase.id, slide.id];
    const events = await db.prisma.auditEvent.findMany({
      where: { seq: { gt: from._max.seq! }, action: { in: ["case.repredict", "slide.analyzed"] }, entityId: { in: ours } },
      orderBy: { seq: "asc" },
    });
    // One case re-predicted (STAT, the oldest first), then the waiting analysis, then the other case.
    expect(events.map((e) => (e.action === "slide.analyzed" ? `analysed ${e.entityId}` : `repredict ${e.entityId}`))).toEqual([
      `repredict ${first.kase.id}`,
      `analysed ${slide.id}`,
      `repredict ${second.kase.id}`,
    ]);
  }, 180_000);

  it("waits at most 10 s for a lock held long (a sign-off), then tries the batch again, no attempt spent", async () => {
    const { kase, slides } = await analysedCase("R-LOCKED", [51], "STAT");
    const model = await crown({ abstains: true });
    const job = await db.prisma.job.findFirstOrThrow({ where: { type: "repredictOpenCases", status: "QUEUED", payload: { path: ["modelVersionId"], equals: model.id } } });
    // Another transaction holds the case FOR UPDATE (as a sign-off does) for 16 s, past the write transaction's own 15 s.
    const holding = db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT 1 FROM "case" WHERE id = ${kase.id}::uuid FOR UPDATE`;
        await new Promise((ok) => setTimeout(ok, 16_000));
      },
      { timeout: 30_000 },
    );
    await new Promise((ok) => setTimeout(ok, 200));
    await Promise.all([holding, runJobs(["repredictOpenCases"])]);
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    const cells = await db.prisma.cell.findMany({ where: { slideId: slides[0]!.id }, include: { predictions: { orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 1 } } });
    expect(cells.every((c) => c.predictions[0]!.modelVersionId === model.id)).toBe(true);
  }, 180_000);
});

describe("analyzeSlide and a champion change", () => {
  it("a slide whose analysis finishes just after a switch is predicted again with the new champion, not missed", async () => {
    const kase = await db.prisma.case.create({ data: { accession: "R-SWITCH", createdById: tech.id } });
    const bytes = (await synthDemoField(47)).bytes;
    const sha = await blobs.put(bytes);
    const slide = await db.prisma.$transaction(async (tx) => {
      const s = await tx.slide.create({ data: { caseId: kase.id, imageSha256: sha, mimeType: "image/jpeg", byteSize: bytes.length, ...(await runtime.imageSize(bytes)), uploadedById: tech.id } });
      await enqueueSlideAnalysis(tx, s.id);
      return s;
    });
    const old = await db.prisma.modelVersion.findFirstOrThrow({ where: { status: "CHAMPION" } });
    const job = await claimJob(db.prisma, { workerId: "test", types: ["analyzeSlide"], leaseMs: 60_000 });
    expect(job?.payload).toEqual({ slideId: slide.id });
    // The switch commits once the old champion has classified the cells, before the slide is done:
    // the new champion's re-prediction runs now and finds the slide still RUNNING.
    let next: ModelVersion | undefined;
    const analyze = createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }).analyzeSlide!;
    await analyze({
      prisma: db.prisma, blobs, dataDir, log: silentLogger, job: job!, workerId: "test", signal: new AbortController().signal,
      progress: async (value) => {
        if (value < 0.97 || next) return;
        next = await crown({ abstains: true });
        await runJobs(["repredictOpenCases"]);
      },
    });
    expect(next).toBeDefined();
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus).toBe("DONE");
    const cells = await db.prisma.cell.findMany({ where: { slideId: slide.id }, include: { predictions: { orderBy: { createdAt: "desc" } } } });
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) {
      expect(cell.predictions.map((p) => p.modelVersionId)).toEqual([next!.id, old.id]);
      expect(cell.currentLabel).toBe("unidentified");
    }
    const analysed = await db.prisma.auditEvent.findFirstOrThrow({ where: { action: "slide.analyzed", entityId: slide.id } });
    expect(analysed.after).toMatchObject({ modelVersionId: next!.id });
  }, 180_000);
});
