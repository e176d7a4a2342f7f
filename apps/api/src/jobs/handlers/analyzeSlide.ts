// analyzeSlide: a slide's image -> cells (crops in the blob store) -> champion predictions ->
// slide DONE -> case IN_REVIEW once all its slides are done.
//
// A slide voided before or during its analysis (voidSlide) is left as it is: the job ends without
// failing it, and writes no cell, prediction or status to it from the moment the void commits.
//
// Idempotent, so a worker killed at any point can be retried: cells are unique per
// (slide, box) and predictions per (cell, model version, round), both inserted with ON CONFLICT DO
// NOTHING, and a cell whose newest call is already the champion's is not called again; the final status change and its audit events commit in one transaction that is
// skipped when the slide is already DONE. Model work runs outside any transaction (the
// embedded PGlite serialises connections, so an open transaction would stall the API).
import { BlobCorruptError, BlobNotFoundError, type AnalysisStatus, type ModelVersion, type Prisma } from "@rcmnet/db";
import { z } from "zod";
import { failureReason } from "../failureReason.ts";
import { assertLeaseHeld } from "../leaseHeld.ts";
import { keepBlobs } from "../sweepOrphanBlobs.ts";
import { systemAudit } from "../systemAudit.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { AuthUser } from "../../context.ts";
import type { ClassifierCache } from "../model/classifierCache.ts";
import { lockChampionShared } from "../../modules/models/championLock.ts";
import { callDueSql, nextRoundSql } from "../model/callsDue.ts";
import { UNIDENTIFIED, type CellBox, type ModelRuntime } from "../model/runtime.ts";
import { JobAbortedError, PermanentJobError, type JobContext, type JobHandler } from "../types.ts";

export { ANALYZE_SLIDE } from "../analysisJobs.ts";

const payloadSchema = z.object({ slideId: z.uuid() });

/** Crops and predictions are written in batches: bounded memory and short transactions. */
const BATCH = 32;
/** Predictions redone at most this often when the champion changes during one analysis. */
const MAX_CHAMPION_ROUNDS = 3;

export interface AnalyzeSlideDeps {
  runtime: ModelRuntime;
  classifiers: ClassifierCache;
}

export function analyzeSlideHandler(deps: AnalyzeSlideDeps): JobHandler {
  return (ctx) => analyzeSlide(ctx, deps);
}

async function analyzeSlide(ctx: JobContext, { runtime, classifiers }: AnalyzeSlideDeps): Promise<void> {
  const { prisma, blobs, log } = ctx;
  const parsed = payloadSchema.safeParse(ctx.job.payload);
  if (!parsed.success) throw new PermanentJobError("analyzeSlide payload must be { slideId: uuid }");
  const { slideId } = parsed.data;

  const slide = await prisma.slide.findUnique({ where: { id: slideId } });
  if (!slide) throw new PermanentJobError(`slide ${slideId} not found`);
  if (slide.analysisStatus === "DONE") return; // finished by an earlier attempt
  if (slide.voidedAt) {
    log.info("slide voided: analysis skipped", { jobId: ctx.job.id, slideId: slide.id });
    return;
  }

  try {
    await markRunning(ctx, slide.id, slide.caseId);
    await ctx.progress(0.05, "loading image");
    const image = await permanentIf(blobs.get(slide.imageSha256), isMissingOrBadImage);

    // 1. Cells. Detection is deterministic, so a retry finds the same boxes again.
    await ctx.progress(0.1, slide.kind === "FIELD" ? "detecting cells" : "preparing crop");
    const boxes: CellBox[] =
      slide.kind === "FIELD"
        ? await permanentIf(runtime.detectCells(image), isMissingOrBadImage)
        : [{ x: 0, y: 0, width: slide.width, height: slide.height, score: 1 }];
    // All crops from one decode of the field: cropping batch by batch decoded a 40 Mpx field
    // again for every 32 cells.
    const crops = slide.kind === "FIELD" ? await runtime.cropCells(image, boxes) : [image];
    for (let i = 0; i < boxes.length; i += BATCH) {
      const batch = boxes.slice(i, i + BATCH);
      const cropShas = await Promise.all(crops.slice(i, i + BATCH).map((c) => blobs.put(c)));
      await prisma.$transaction(async (tx) => {
        await assertLeaseHeld(tx, ctx);
        await assertNotVoided(tx, slide.id);
        await keepBlobs(tx, blobs, cropShas.map((sha256, j) => ({ sha256, bytes: crops[i + j]! })));
        await tx.cell.createMany({
          data: batch.map((b, j) => ({
            slideId: slide.id,
            x: b.x,
            y: b.y,
            width: b.width,
            height: b.height,
            detectionScore: b.score ?? null,
            cropSha256: cropShas[j]!,
          })),
          skipDuplicates: true,
        });
      });
      await ctx.progress(0.1 + 0.4 * Math.min(1, (i + BATCH) / boxes.length), "storing cells");
    }

    // 2. Predictions by the champion. A champion changed while this ran (an approval) is caught
    // when the slide is marked done, under the champion lock: the cells are then predicted again
    // with the new one. Without that, a slide finishing just after a switch would keep the old
    // model's calls, and the new champion's re-prediction of open cases (repredictOpenCases),
    // which takes only finished slides, could have run while this one was still running.
    let champion = await currentChampion(ctx);
    let predicted = 0;
    for (let round = 1; ; round++) {
      if (champion) predicted += await predictCells(ctx, classifiers, slide.id, champion);
      else log.warn("no champion model: cells stored without predictions", { slideId: slide.id });
      await ctx.progress(0.97, "finishing");
      const cellCount = await prisma.cell.count({ where: { slideId: slide.id } });
      const outcome = await markDone(ctx, slide.id, slide.caseId, champion?.id ?? null, {
        cellCount,
        modelVersionId: champion?.id ?? null,
        newPredictions: predicted,
      });
      if (outcome === "done") {
        log.info("slide analysed", { jobId: ctx.job.id, slideId: slide.id, cells: cellCount, predicted });
        break;
      }
      // Champion changes are people's decisions, minutes apart; this many in one analysis is not
      // one: fail the attempt (retried) rather than loop.
      if (round >= MAX_CHAMPION_ROUNDS) throw new Error(`the champion model changed ${round} times during the analysis`);
      champion = await currentChampion(ctx);
      log.info("champion changed during the analysis: predicting with the new one", { jobId: ctx.job.id, slideId: slide.id, modelVersionId: champion?.id ?? null });
    }
  } catch (err) {
    if (err instanceof SlideVoidedError) {
      log.info("slide voided during its analysis: stopped", { jobId: ctx.job.id, slideId: slide.id });
      return;
    }
    await markFailedIfFinal(ctx, slide.id, err);
    throw err;
  }
}

/** The champion now (null: none registered yet). */
function currentChampion(ctx: JobContext): Promise<ModelVersion | null> {
  return ctx.prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
}

/** Predicts the slide's cells whose newest call is not `champion`'s (callsDue.ts); returns how many. */
async function predictCells(ctx: JobContext, classifiers: ClassifierCache, slideId: string, champion: ModelVersion): Promise<number> {
  const { prisma, blobs } = ctx;
  return classifiers.use(champion, async (classifier) => {
    let done = 0;
    const pending = await prisma.$queryRaw<{ id: string; cropSha256: string; round: number }[]>`
      SELECT c.id, c."cropSha256", ${nextRoundSql("c", champion.id)} AS round
      FROM cell c WHERE c."slideId" = ${slideId}::uuid AND ${callDueSql("c", champion.id)}
      ORDER BY c.y, c.x, c.id`;
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      const crops = await Promise.all(batch.map((c) => blobs.get(c.cropSha256)));
      const out = await classifier.model.predict(crops, { abstainThreshold: classifier.abstainThreshold });
      await prisma.$transaction(async (tx) => {
        await assertLeaseHeld(tx, ctx);
        await assertNotVoided(tx, slideId);
        await tx.prediction.createMany({
          data: batch.map((c, j) => ({
            cellId: c.id,
            modelVersionId: champion.id,
            round: c.round,
            label: out[j]!.label,
            probabilities: out[j]!.probabilities,
            confidence: out[j]!.confidence,
            abstained: out[j]!.abstained,
          })),
          skipDuplicates: true,
        });
        // The label cache follows the AI only until a human has decided.
        for (const [j, c] of batch.entries()) {
          await tx.cell.updateMany({
            where: { id: c.id, reviewCount: 0 },
            data: { currentLabel: out[j]!.abstained ? UNIDENTIFIED : out[j]!.label },
          });
        }
      });
      done += batch.length;
      await ctx.progress(0.5 + 0.45 * Math.min(1, (i + BATCH) / pending.length), "classifying cells");
    }
    return done;
  });
}

/** The slide was voided while its analysis ran: the job ends there, without failing. */
class SlideVoidedError extends Error {
  override name = "SlideVoidedError";
}

/**
 * Inside a write's transaction: the slide is not voided, and stays so until the write commits
 * (FOR SHARE: voidSlide's update waits for it), so nothing lands on an image once it is voided.
 */
async function assertNotVoided(tx: Prisma.TransactionClient, slideId: string): Promise<void> {
  const [row] = await tx.$queryRaw<{ voided: boolean }[]>`
    SELECT "voidedAt" IS NOT NULL AS voided FROM "slide" WHERE "id" = ${slideId}::uuid FOR SHARE`;
  if (row?.voided) throw new SlideVoidedError(`slide ${slideId} was voided`);
}

/** Errors that no retry can fix: the stored image is missing, corrupt, or not an image. */
function isMissingOrBadImage(err: unknown): boolean {
  const name = err instanceof Error ? err.name : "";
  return name === "ImageDecodeError" || err instanceof BlobNotFoundError || err instanceof BlobCorruptError;
}

async function permanentIf<T>(work: Promise<T>, test: (err: unknown) => boolean): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (test(err))
      throw new PermanentJobError(`image unusable: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
}

async function markRunning(ctx: JobContext, slideId: string, caseId: string): Promise<void> {
  await ctx.prisma.$transaction(async (tx) => {
    await assertLeaseHeld(tx, ctx);
    // The case before the slide, the order voidSlide and failSlide lock them in: the other order
    // could deadlock with a void of the image just as its case's first analysis started.
    await tx.$executeRaw`SELECT 1 FROM "case" WHERE id = ${caseId}::uuid FOR UPDATE`;
    await assertNotVoided(tx, slideId);
    await tx.slide.updateMany({
      where: { id: slideId, analysisStatus: { in: ["PENDING", "FAILED", "RUNNING"] } },
      data: { analysisStatus: "RUNNING", analysisError: null },
    });
    const moved = await tx.case.updateMany({
      where: { id: caseId, status: "RECEIVED" },
      data: { status: "ANALYZING" },
    });
    if (moved.count === 1) {
      await systemAudit(tx, {
        action: "case.status",
        entityType: "Case",
        entityId: caseId,
        before: { status: "RECEIVED" },
        after: { status: "ANALYZING" },
        reason: "slide analysis started",
      });
    }
  });
}

/**
 * Marks the slide DONE (and its case IN_REVIEW once all its slides are), unless the champion is
 * no longer `championId`, the model its cells were just predicted with: then nothing is written
 * and the caller predicts again. Read under the shared champion lock, held to the commit, so a
 * champion change commits either before this check (seen here) or after the slide is DONE (seen
 * by the new champion's repredictOpenCases).
 */
async function markDone(
  ctx: JobContext,
  slideId: string,
  caseId: string,
  championId: string | null,
  summary: Prisma.InputJsonObject,
): Promise<"done" | "championChanged"> {
  return ctx.prisma.$transaction(async (tx) => {
    // Champion lock before the case lock: the order every holder of both keeps.
    await lockChampionShared(tx);
    // Lock the case first: two slides of one case finishing at once on two workers must not
    // both miss the "all done" moment (each would otherwise see the other still running).
    await tx.$queryRaw`SELECT 1 FROM "case" WHERE "id" = ${caseId}::uuid FOR UPDATE`;
    await assertLeaseHeld(tx, ctx);
    await assertNotVoided(tx, slideId);
    const slide = await tx.slide.findUniqueOrThrow({ where: { id: slideId }, select: { analysisStatus: true } });
    if (slide.analysisStatus === "DONE") return "done"; // an earlier attempt committed this already
    const now = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" }, select: { id: true } });
    if ((now?.id ?? null) !== championId) return "championChanged";
    await tx.slide.update({ where: { id: slideId }, data: { analysisStatus: "DONE", analysisError: null } });
    await systemAudit(tx, {
      action: "slide.analyzed",
      entityType: "Slide",
      entityId: slideId,
      after: summary,
    });
    await advanceCaseIfAnalysed(tx, caseId);
    return "done";
  });
}

/** Who moved the case to review and why, when it was not the worker finishing an analysis. */
export interface CaseAdvanceCause {
  actor: Pick<AuthUser, "id" | "login">;
  reason: string;
}

/**
 * Inside a transaction holding the case row lock: once no slide of the case is waiting or being
 * analysed, the case goes to review, failed slides included. A failed slide must not hold its case
 * in ANALYZING for ever: the reviewer sees which images failed, and the technician can upload again.
 * A voided slide is out of the case whatever its analysis status (its analysis is abandoned).
 * `cause` names a user whose action finished the wait (a void): 21 CFR 11.10(e), the trail says who
 * and why; without it the change is the system's, at the end of an analysis.
 */
export async function advanceCaseIfAnalysed(tx: Prisma.TransactionClient, caseId: string, cause?: CaseAdvanceCause): Promise<void> {
  const unfinished = await tx.slide.count({ where: { caseId, analysisStatus: { in: ["PENDING", "RUNNING"] }, voidedAt: null } });
  if (unfinished > 0) return;
  const kase = await tx.case.findUniqueOrThrow({ where: { id: caseId }, select: { status: true } });
  // A signed-out case that receives a slide stays signed out: reopening it is an amendment.
  if (kase.status !== "RECEIVED" && kase.status !== "ANALYZING") return;
  const failed = await tx.slide.count({ where: { caseId, analysisStatus: "FAILED", voidedAt: null } });
  const notAnalysed = failed ? `; ${failed} could not be analysed` : "";
  await tx.case.update({ where: { id: caseId }, data: { status: "IN_REVIEW" } });
  await recordAudit(tx, cause?.actor ?? null, {
    action: "case.status",
    entityType: "Case",
    entityId: caseId,
    before: { status: kase.status },
    after: { status: "IN_REVIEW" },
    reason: cause ? `${cause.reason}${notAnalysed}` : failed ? `all slides finished${notAnalysed}` : "all slides analysed",
  });
}

/** On the last attempt (or a permanent error) the slide shows FAILED with the reason. */
async function markFailedIfFinal(ctx: JobContext, slideId: string, err: unknown): Promise<void> {
  const final = err instanceof PermanentJobError || ctx.job.attempts >= ctx.job.maxAttempts;
  // A worker that lost its job leaves the slide to whoever holds it now (or to the reaper).
  if (!final || ctx.signal.aborted || err instanceof JobAbortedError) return;
  // The full error is in the worker's log ("job failed"); users see a reason without internals.
  const message = failureReason(err, ctx.job.id);
  await ctx.prisma
    .$transaction(async (tx) => {
      // Like every write of the analysis: a worker that stalled past its lease must not fail a
      // slide that was uploaded again and is being analysed by another job attempt now.
      await assertLeaseHeld(tx, ctx);
      await failSlide(tx, slideId, message, ["PENDING", "RUNNING", "FAILED"]);
    })
    // The job's own failure record (written next by the worker) matters more than this one.
    .catch((failure: unknown) => ctx.log.warn("slide failure not recorded", { jobId: ctx.job.id, slideId, error: String(failure) }));
}

/**
 * Marks a slide FAILED with the reason users see, if its status is one of `from`, with its audit
 * event, and moves its case to review once no other slide is being analysed (under the case lock,
 * like markDone). Shared by the final failure path and the reconciler. Returns whether it changed.
 */
export async function failSlide(
  tx: Prisma.TransactionClient,
  slideId: string,
  message: string,
  from: AnalysisStatus[],
  /** Fail it only if this job is still FAILED under the case lock (a reconciler's stale read). */
  onlyIfJobFailed?: string,
): Promise<boolean> {
  const slide = await tx.slide.findUnique({ where: { id: slideId }, select: { caseId: true } });
  if (!slide) return false;
  await tx.$queryRaw`SELECT 1 FROM "case" WHERE "id" = ${slide.caseId}::uuid FOR UPDATE`;
  if (onlyIfJobFailed !== undefined) {
    // Read again under the lock: the image may have been uploaded again since (analyseAgain
    // requeues the job) and a worker may be analysing it now; failing it then would let the case
    // be signed while that worker goes on to add cells to it.
    const [job] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text FROM "job" WHERE "id" = ${onlyIfJobFailed}::uuid`;
    if (job?.status !== "FAILED") return false;
  }
  // A voided slide is not failed: its analysis was abandoned, and the row is closed (trigger).
  const changed = await tx.slide.updateMany({
    where: { id: slideId, analysisStatus: { in: from }, voidedAt: null },
    data: { analysisStatus: "FAILED", analysisError: message },
  });
  if (changed.count === 0) return false;
  await systemAudit(tx, { action: "slide.analysisFailed", entityType: "Slide", entityId: slideId, after: { error: message } });
  await advanceCaseIfAnalysed(tx, slide.caseId);
  return true;
}
