// analyzeSlide with the real model code on a real PostgreSQL: a synthetic smear field becomes
// cells (crops in the blob store) and champion predictions, and the case moves to IN_REVIEW.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore, type ModelVersion, type User } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimJob, enqueueJob } from "../queue.ts";
import { JobAbortedError, PermanentJobError, type JobContext } from "../types.ts";
import { enqueueSlideAnalysis } from "../analysisJobs.ts";
import { silentLogger } from "../logger.ts";
import { ClassifierCache } from "../model/classifierCache.ts";
import { getModelRuntime, synthDemoField } from "../model/modelRuntime.ts";
import type { ModelRuntime } from "../model/runtime.ts";
import { registerTestModel } from "../testing/registerTestModel.ts";
import { runJobs as runWorkerUntilIdle } from "../testing/runJobs.ts";
import { tinyModelDir } from "../testing/tinyModel.ts";
import { setChampion } from "../../modules/models/setChampion.ts";
import { createHandlers } from "./index.ts";

let db: TestDatabase;
let dataDir: string;
let blobs: BlobStore;
let runtime: ModelRuntime;
let user: User;
let champion: ModelVersion;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-analyze-"));
  blobs = new BlobStore(join(dataDir, "blobs"));
  runtime = await getModelRuntime();
  user = await db.prisma.user.create({
    data: { login: "tech", displayName: "T", role: "TECHNICIAN", passwordHash: "x" },
  });
  champion = await registerTestModel(db.prisma, await tinyModelDir(1), "CHAMPION");
}, 120_000);
afterAll(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Runs the real worker loop in this process until no job is open. */
const runJobs = () => runWorkerUntilIdle({ prisma: db.prisma, blobs, dataDir, runtime });

async function newCase(accession: string) {
  return db.prisma.case.create({ data: { accession, createdById: user.id } });
}

async function addSlide(caseId: string, bytes: Uint8Array, kind: "FIELD" | "CROP" = "FIELD") {
  const sha = await blobs.put(bytes);
  const size = await runtime.imageSize(bytes);
  return db.prisma.$transaction(async (tx) => {
    const slide = await tx.slide.create({
      data: {
        caseId,
        kind,
        imageSha256: sha,
        mimeType: "image/jpeg",
        byteSize: bytes.length,
        ...size,
        uploadedById: user.id,
      },
    });
    await enqueueSlideAnalysis(tx, slide.id);
    return slide;
  });
}

/** The handler run as worker "stalled", outside the worker loop: `progress` is its heartbeat. */
/**
 * Claims the analysis of `slideId` as a worker named "stalled" would. Analyses earlier tests left
 * queued (one a later runJobs reaped from its stalled worker, waiting out its retry backoff) are
 * taken out of the queue first: a claim by type would otherwise take one of them once it is due,
 * as it once did in CI (a voided slide's job: the handler skipped it and resolved).
 */
async function claimAsStalled(slideId: string): Promise<JobContext["job"]> {
  await db.prisma.job.updateMany({
    where: { status: "QUEUED", type: "analyzeSlide", NOT: { payload: { equals: { slideId } } } },
    data: { status: "CANCELLED", finishedAt: new Date(), error: "left over by an earlier test" },
  });
  const job = await claimJob(db.prisma, { workerId: "stalled", types: ["analyzeSlide"], leaseMs: 60_000 });
  expect(job?.payload).toEqual({ slideId });
  return job!;
}

function analyzeAsStalledWorker(job: JobContext["job"], progress: () => Promise<void>) {
  const analyze = createHandlers({ runtime, classifiers: new ClassifierCache(runtime, dataDir) }).analyzeSlide!;
  return analyze({ prisma: db.prisma, blobs, dataDir, log: silentLogger, job, workerId: "stalled", signal: new AbortController().signal, progress });
}

describe("analyzeSlide", () => {
  it("turns smear fields into cells and champion predictions, then the case into IN_REVIEW", async () => {
    const kase = await newCase("A-1");
    const field = await synthDemoField(11);
    const a = await addSlide(kase.id, field.bytes);
    const b = await addSlide(kase.id, (await synthDemoField(12)).bytes);
    await runJobs();

    const slides = await db.prisma.slide.findMany({ where: { caseId: kase.id } });
    expect(slides.map((s) => s.analysisStatus)).toEqual(["DONE", "DONE"]);
    expect((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");

    const cells = await db.prisma.cell.findMany({ where: { slideId: a.id }, include: { predictions: true } });
    // The detector finds the drawn white cells (within one either way).
    expect(cells.length).toBeGreaterThanOrEqual(Math.max(1, field.truth!.length - 1));
    expect(cells.length).toBeLessThanOrEqual(field.truth!.length + 1);
    for (const cell of cells) {
      expect(await blobs.has(cell.cropSha256)).toBe(true);
      expect(cell.predictions).toHaveLength(1);
      const p = cell.predictions[0]!;
      expect(p.modelVersionId).toBe(champion.id);
      expect(champion.labels).toContain(p.label);
      expect(Object.keys(p.probabilities as object).sort()).toEqual([...champion.labels].sort());
      expect(cell.currentLabel).toBe(p.abstained ? "unidentified" : p.label);
    }
    expect(await db.prisma.cell.count({ where: { slideId: b.id } })).toBeGreaterThan(0);

    const audit = await db.prisma.auditEvent.findMany({
      where: { entityId: { in: [kase.id, a.id, b.id] } },
      orderBy: { seq: "asc" },
    });
    expect(audit.filter((e) => e.action === "slide.analyzed")).toHaveLength(2);
    expect(
      audit.filter((e) => e.action === "case.status").map((e) => (e.after as { status: string }).status),
    ).toEqual(["ANALYZING", "IN_REVIEW"]);
    expect(audit.every((e) => e.actorLogin === "system")).toBe(true);

    // Running the analysis again (a retried job) adds nothing.
    const counts = { cells: await db.prisma.cell.count(), predictions: await db.prisma.prediction.count() };
    await db.prisma.slide.update({ where: { id: a.id }, data: { analysisStatus: "PENDING" } });
    await enqueueJob(db.prisma, { type: "analyzeSlide", payload: { slideId: a.id } });
    await runJobs();
    expect({ cells: await db.prisma.cell.count(), predictions: await db.prisma.prediction.count() }).toEqual(
      counts,
    );
  }, 120_000);

  it("a worker that lost its job midway writes nothing more; the next holder finishes it", async () => {
    const kase = await newCase("A-LATE");
    const slide = await addSlide(kase.id, (await synthDemoField(21)).bytes);
    const job = await claimAsStalled(slide.id);
    // The worker stalls while loading the image: its lease runs out and the reaper requeues the
    // job, but the worker has not noticed (its heartbeat raised nothing yet).
    let reaped = false;
    const late = analyzeAsStalledWorker(job!, async () => {
      if (reaped) return;
      reaped = true;
      await db.prisma.job.update({ where: { id: job!.id }, data: { status: "QUEUED", lockedBy: null, lockedAt: null, heartbeatAt: null } });
    });
    await expect(late).rejects.toBeInstanceOf(JobAbortedError);
    expect(await db.prisma.cell.count({ where: { slideId: slide.id } })).toBe(0);
    expect(await db.prisma.auditEvent.count({ where: { entityId: slide.id, action: "slide.analyzed" } })).toBe(0);

    await runJobs();
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus).toBe("DONE");
    expect(await db.prisma.cell.count({ where: { slideId: slide.id } })).toBeGreaterThan(0);
  }, 120_000);

  it("skips a voided slide's queued analysis without failing it", async () => {
    const kase = await newCase("A-VOID");
    const slide = await addSlide(kase.id, (await synthDemoField(31)).bytes);
    await db.prisma.slide.update({ where: { id: slide.id }, data: { voidedAt: new Date(), voidedById: user.id, voidReason: "wrong patient" } });
    await runJobs();
    expect(await db.prisma.job.findFirstOrThrow({ where: { payload: { path: ["slideId"], equals: slide.id } } })).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    expect(await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).toMatchObject({ analysisStatus: "PENDING", analysisError: null });
    expect(await db.prisma.cell.count({ where: { slideId: slide.id } })).toBe(0);
    expect(await db.prisma.auditEvent.count({ where: { entityId: slide.id, action: { in: ["slide.analyzed", "slide.analysisFailed"] } } })).toBe(0);
  }, 60_000);

  it("a slide voided while it is analysed gets no cell, prediction or status written after the void", async () => {
    const kase = await newCase("A-VOID-LATE");
    const slide = await addSlide(kase.id, (await synthDemoField(32)).bytes);
    const job = await claimAsStalled(slide.id);
    // Voided once the worker has marked it running and started on the image.
    let voided = false;
    await analyzeAsStalledWorker(job!, async () => {
      if (voided) return;
      voided = true;
      await db.prisma.slide.update({ where: { id: slide.id }, data: { voidedAt: new Date(), voidedById: user.id, voidReason: "blurred field" } });
    });
    expect(voided).toBe(true);
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus).toBe("RUNNING");
    expect(await db.prisma.cell.count({ where: { slideId: slide.id } })).toBe(0);
    expect(await db.prisma.auditEvent.count({ where: { entityId: slide.id, action: { in: ["slide.analyzed", "slide.analysisFailed"] } } })).toBe(0);
  }, 60_000);

  it("treats a CROP slide as one cell covering the image", async () => {
    const kase = await newCase("A-2");
    const field = await synthDemoField(13);
    const [crop] = await runtime.cropCells(field.bytes, [field.truth![0]!]);
    const slide = await addSlide(kase.id, crop!, "CROP");
    await runJobs();
    const cells = await db.prisma.cell.findMany({
      where: { slideId: slide.id },
      include: { predictions: true },
    });
    expect(cells).toHaveLength(1);
    expect(cells[0]).toMatchObject({
      x: 0,
      y: 0,
      width: slide.width,
      height: slide.height,
      cropSha256: slide.imageSha256,
    });
    expect(cells[0]!.predictions).toHaveLength(1);
  }, 60_000);

  it("predicts with the new champion after a promotion; old predictions keep their version", async () => {
    const oldPredictions = await db.prisma.prediction.findMany();
    const next = await registerTestModel(db.prisma, await tinyModelDir(1), "CANDIDATE", "second");
    await db.prisma.$transaction((tx) => setChampion(tx, null, next, "test"));
    const kase = await newCase("A-3");
    const slide = await addSlide(kase.id, (await synthDemoField(14)).bytes);
    await runJobs();
    const fresh = await db.prisma.prediction.findMany({ where: { cell: { slideId: slide.id } } });
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((p) => p.modelVersionId === next.id)).toBe(true);
    const again = await db.prisma.prediction.findMany({
      where: { id: { in: oldPredictions.map((p) => p.id) } },
    });
    expect(again.map((p) => p.modelVersionId)).toEqual(oldPredictions.map((p) => p.modelVersionId));
    expect(again.every((p) => p.modelVersionId === champion.id)).toBe(true);
  }, 60_000);

  it("fails a slide whose image cannot be decoded, with the reason, without retrying; its case still reaches review", async () => {
    const kase = await newCase("A-4");
    const good = await addSlide(kase.id, (await synthDemoField(14)).bytes);
    const sha = await blobs.put(new TextEncoder().encode("not an image at all"));
    const slide = await db.prisma.slide.create({
      data: {
        caseId: kase.id,
        imageSha256: sha,
        mimeType: "image/jpeg",
        byteSize: 19,
        width: 10,
        height: 10,
        uploadedById: user.id,
      },
    });
    const job = await enqueueSlideAnalysis(db.prisma, slide.id);
    await runJobs();
    const after = await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } });
    expect(after.analysisStatus).toBe("FAILED");
    expect(after.analysisError).toMatch(/image/i);
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      status: "FAILED",
      attempts: 1,
    });
    expect(await db.prisma.cell.count({ where: { slideId: slide.id } })).toBe(0);
    // One image failed, the other was analysed: the case goes to review (before, it stayed in
    // ANALYZING for ever and could never be signed), and the audit says why.
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: good.id } })).analysisStatus).toBe("DONE");
    expect((await db.prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).status).toBe("IN_REVIEW");
    const moved = await db.prisma.auditEvent.findFirstOrThrow({ where: { entityId: kase.id, action: "case.status", after: { path: ["status"], equals: "IN_REVIEW" } } });
    expect(moved.reason).toBe("all slides finished; 1 could not be analysed");
  }, 60_000);

  it("a worker that lost its job before its final failure leaves the slide to the job's new holder", async () => {
    const kase = await newCase("A-LOST-FAIL");
    const sha = await blobs.put(new TextEncoder().encode("not an image either"));
    const slide = await db.prisma.slide.create({
      data: { caseId: kase.id, imageSha256: sha, mimeType: "image/jpeg", byteSize: 19, width: 10, height: 10, uploadedById: user.id },
    });
    await enqueueSlideAnalysis(db.prisma, slide.id);
    const job = await claimAsStalled(slide.id);
    // While it loads the image, its lease passes to another worker (the image uploaded again and
    // analysed anew, say); its heartbeat has not noticed yet.
    const run = analyzeAsStalledWorker(job!, async () => {
      await db.prisma.job.update({ where: { id: job!.id }, data: { lockedBy: "next-holder" } });
    });
    await expect(run).rejects.toBeInstanceOf(PermanentJobError);
    expect((await db.prisma.slide.findUniqueOrThrow({ where: { id: slide.id } })).analysisStatus).toBe("RUNNING");
  }, 60_000);

  it("fails at once on a payload that names no slide", async () => {
    const job = await enqueueJob(db.prisma, {
      type: "analyzeSlide",
      payload: { slideId: "00000000-0000-4000-8000-000000000000" },
    });
    const bad = await enqueueJob(db.prisma, { type: "analyzeSlide", payload: { nope: 1 } });
    await runJobs();
    expect(await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      status: "FAILED",
      attempts: 1,
    });
    expect((await db.prisma.job.findUniqueOrThrow({ where: { id: bad.id } })).error).toMatch(/payload/);
  }, 60_000);
});
