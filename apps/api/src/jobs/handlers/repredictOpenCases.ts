// repredictOpenCases: a new champion (a promotion or a rollback approved) predicts again the cells
// of open cases that no human has decided yet, so that review goes on with the model the lab now
// trusts instead of the one it has just replaced (or withdrawn).
//
// Open: every case not signed (SIGNED_OUT, AMENDED). A case under amendment is IN_REVIEW again
// and so open, but sign-off needs every cell decided, so only cells added since (an image
// uploaded during the amendment) can still be undecided there. Slides still PENDING or RUNNING
// are left to analyzeSlide, which predicts with the champion of the moment it finishes (its
// markDone checks that under the champion lock); FAILED and voided slides are out of the case.
//
// Cells are taken case by case (STAT first), 32 at a time; each batch's predictions, label changes
// and its audit event commit in one short transaction that
//   - holds the champion lock shared and finds this model still champion: a later change commits
//     before (this job stops, the next champion's own job does the work) or after (its job sees
//     these predictions as old ones and predicts again);
//   - holds the job (lease) and the case FOR SHARE, the lock review decisions take and sign-off
//     waits for: nothing lands in a signed case;
//   - locks the cells and writes only those still undecided, so a cell a human decided while the
//     model ran keeps its decision and gets no prediction. A review waiting on the cell lock
//     finds the label changed afterwards and is refused (confirmCells' expectedLabel).
// Old predictions are never touched (append-only). A cell is called when its newest call is not
// this model's (callsDue.ts): after a rollback (A, then B, then A again) a cell A called before B
// is called by A anew, as round 2 (Prediction.round), so no withdrawn call stays newest. A retry
// is idempotent: what it wrote is already newest.
import type { ModelVersion, PrismaClient } from "@rcmnet/db";
import { BlobCorruptError, BlobNotFoundError, Prisma } from "@rcmnet/db";
import { z } from "zod";
import { isSignedStatus, SIGNED_STATUSES } from "../../modules/cases/caseStatus.ts";
import { lockChampionShared } from "../../modules/models/championLock.ts";
import { assertLeaseHeld } from "../leaseHeld.ts";
import { callDueSql, nextRoundSql } from "../model/callsDue.ts";
import type { ClassifierCache, LoadedClassifier } from "../model/classifierCache.ts";
import { UNIDENTIFIED, type CellPrediction } from "../model/runtime.ts";
import { systemAudit } from "../systemAudit.ts";
import { JobYieldedError, PermanentJobError, type JobContext, type JobHandler } from "../types.ts";

import { ANALYZE_SLIDE } from "../analysisJobs.ts";

export { REPREDICT_OPEN_CASES } from "../analysisJobs.ts";

const payloadSchema = z.object({ modelVersionId: z.uuid() });

/** Crops classified per model call: bounded memory, and a heartbeat between calls. */
const BATCH = 32;
/**
 * Each batch's writes: short (32 cells), and their locks may wait for a sign-off or an approval, so
 * more than Prisma's 5 s, but well under the lease (30 s) less a heartbeat (10 s): the transaction
 * share-locks the job's own row (assertLeaseHeld), which holds the heartbeat back until it commits.
 */
const WRITE_TX = { timeout: 15_000 };

export interface RepredictDeps {
  classifiers: ClassifierCache;
  /** Hand the job back between cases while slide analyses wait (a worker that takes both kinds). */
  yieldToAnalyses?: boolean;
}

export function repredictOpenCasesHandler(deps: RepredictDeps): JobHandler {
  return (ctx) => repredictOpenCases(ctx, deps);
}

/** The job's model is no longer the champion: stop, writing nothing more. */
class ChampionChangedError extends Error {
  override name = "ChampionChangedError";
}

interface CellToPredict {
  id: string;
  cropSha256: string;
}

interface Predicted {
  cellId: string;
  out: CellPrediction;
}

async function repredictOpenCases(ctx: JobContext, { classifiers, yieldToAnalyses = false }: RepredictDeps): Promise<void> {
  const { prisma, log } = ctx;
  const parsed = payloadSchema.safeParse(ctx.job.payload);
  if (!parsed.success) throw new PermanentJobError("repredictOpenCases payload must be { modelVersionId: uuid }");
  const model = await prisma.modelVersion.findUnique({ where: { id: parsed.data.modelVersionId } });
  if (!model) throw new PermanentJobError(`model version ${parsed.data.modelVersionId} not found`);
  const fields = { jobId: ctx.job.id, modelVersionId: model.id };
  if (model.status !== "CHAMPION") {
    log.info("re-prediction skipped: the model is no longer the champion", fields);
    return;
  }

  const cases = await casesToRepredict(prisma, model.id);
  const total = cases.reduce((n, c) => n + c.cells, 0);
  if (total === 0) {
    log.info("re-prediction: no undecided cell of an open case to predict", fields);
    return;
  }
  log.info("re-prediction started", { ...fields, cases: cases.length, cells: total });

  let seen = 0;
  let touched = 0;
  let written = 0;
  let unreadable = 0;
  try {
    await classifiers.use(model, async (classifier) => {
      for (const { caseId } of cases) {
        const cells = await cellsToRepredict(prisma, model.id, caseId);
        let caseWritten = 0;
        for (let i = 0; i < cells.length; i += BATCH) {
          // Slide analyses queued meanwhile (a STAT case's new smear) go first: this job steps back
          // into the queue behind them (each batch is committed), and its next run goes on with
          // what is still due. Only once this run has written something: cells it cannot write
          // (a crop missing) would otherwise have it step back for ever without progress.
          if (yieldToAnalyses && written + caseWritten > 0 && (await analysesWaiting(prisma))) throw new JobYieldedError("slide analyses are waiting");
          await assertStillChampion(prisma, model.id);
          const batch = await predictBatch(ctx, classifier, cells.slice(i, i + BATCH));
          unreadable += batch.unreadable;
          seen += Math.min(BATCH, cells.length - i);
          // The lease renewed after the model's work and before the write, which checks it holds the job.
          await ctx.progress(0.95 * Math.min(1, seen / total), "predicting undecided cells of open cases");
          caseWritten += await writeBatch(ctx, model, caseId, batch.predicted);
        }
        if (caseWritten > 0) touched++;
        written += caseWritten;
      }
    });
  } catch (err) {
    if (!(err instanceof ChampionChangedError)) throw err;
    log.info("re-prediction stopped: another model became champion (its own job takes over)", { ...fields, cases: touched, cells: written });
    return;
  }
  if (unreadable > 0) log.warn("re-prediction: cells whose crop is missing or damaged kept their label", { ...fields, cells: unreadable });
  log.info("re-prediction done", { ...fields, cases: touched, cells: written });
}

/** Classifies a batch; cells whose crop is missing or damaged are left out (a retry cannot help them). */
async function predictBatch(ctx: JobContext, classifier: LoadedClassifier, cells: CellToPredict[]): Promise<{ predicted: Predicted[]; unreadable: number }> {
  const crops = await Promise.all(
    cells.map((c) =>
      ctx.blobs.get(c.cropSha256).catch((err: unknown) => {
        if (err instanceof BlobNotFoundError || err instanceof BlobCorruptError) return null;
        throw err;
      }),
    ),
  );
  const readable = cells.flatMap((c, i) => (crops[i] ? [{ cell: c, crop: crops[i] }] : []));
  if (readable.length === 0) return { predicted: [], unreadable: cells.length };
  const out = await classifier.model.predict(
    readable.map((r) => r.crop),
    { abstainThreshold: classifier.abstainThreshold },
  );
  return {
    predicted: readable.map((r, i) => ({ cellId: r.cell.id, out: out[i]! })),
    unreadable: cells.length - readable.length,
  };
}

/**
 * Writes one batch of a case's predictions and label changes with its audit event, all or nothing
 * (see the header for the locks). Returns how many cells got the new prediction (0: nothing written).
 */
async function writeBatch(ctx: JobContext, model: ModelVersion, caseId: string, predicted: Predicted[]): Promise<number> {
  if (predicted.length === 0) return 0;
  return writeBatchLocked(ctx, model, caseId, predicted).catch(lockTimeoutToYield);
}

async function writeBatchLocked(ctx: JobContext, model: ModelVersion, caseId: string, predicted: Predicted[]): Promise<number> {
  return ctx.prisma.$transaction(async (tx) => {
    // A lock held long (a sign-off, an approval) must not outlast the transaction's time: waited
    // for at most 10 s, then this batch is tried again later (lockTimeoutToYield), no attempt spent.
    await tx.$executeRaw`SET LOCAL lock_timeout = '10s'`;
    await lockChampionShared(tx);
    await assertStillChampion(tx, model.id);
    await assertLeaseHeld(tx, ctx);
    const [kase] = await tx.$queryRaw<{ status: string }[]>`
      SELECT status::text AS status FROM "case" WHERE id = ${caseId}::uuid FOR SHARE`;
    if (!kase || isSignedStatus(kase.status)) return 0;
    // The cells locked in id order until the commit (review decisions lock them in the same
    // order: lockCaseOfCells), then read again by a statement of its own, which sees what
    // committed while it waited: a decision made meanwhile (reviewCount moved) or another job's
    // call keeps its cell out, and a decision arriving now waits and then meets the new label.
    // The case lock was taken first (voidSlide and failSlide take it FOR UPDATE).
    await tx.$executeRaw`SELECT 1 FROM cell WHERE id = ANY(${predicted.map((p) => p.cellId)}::uuid[]) ORDER BY id FOR UPDATE`;
    const open = await tx.$queryRaw<{ id: string; currentLabel: string | null; round: number }[]>`
      SELECT c.id, c."currentLabel", ${nextRoundSql("c", model.id)} AS round FROM cell c JOIN slide s ON s.id = c."slideId"
      WHERE c.id = ANY(${predicted.map((p) => p.cellId)}::uuid[]) AND s."caseId" = ${caseId}::uuid
        AND c."reviewCount" = 0 AND s."analysisStatus" = 'DONE' AND s."voidedAt" IS NULL
        AND ${callDueSql("c", model.id)}
      ORDER BY c.id`;
    if (open.length === 0) return 0;
    const byId = new Map(predicted.map((p) => [p.cellId, p.out]));
    const rows = open.map((c) => ({ cell: c, out: byId.get(c.id)!, label: labelOf(byId.get(c.id)!) }));
    await tx.prediction.createMany({
      data: rows.map(({ cell, out }) => ({
        cellId: cell.id,
        modelVersionId: model.id,
        round: cell.round,
        label: out.label,
        probabilities: out.probabilities,
        confidence: out.confidence,
        abstained: out.abstained,
      })),
    });
    const updated = await tx.$executeRaw`
      UPDATE cell c SET "currentLabel" = v.label
      FROM (SELECT unnest(${rows.map((r) => r.cell.id)}::uuid[]) AS id, unnest(${rows.map((r) => r.label)}::text[]) AS label) v
      WHERE c.id = v.id AND c."reviewCount" = 0`;
    // The rows are locked and were undecided: anything else is a bug, and must not commit.
    if (updated !== rows.length) throw new Error(`re-prediction updated ${updated} of ${rows.length} locked cells`);
    const changes = rows.filter((r) => r.cell.currentLabel !== r.label).map((r) => ({ cellId: r.cell.id, from: r.cell.currentLabel, to: r.label }));
    await systemAudit(tx, {
      action: "case.repredict",
      entityType: "Case",
      entityId: caseId,
      // Which cells, and whose label moved from what to what: a cell's own trail shows the change.
      after: {
        modelVersionId: model.id,
        model: `${model.name} ${model.version}`,
        cells: rows.length,
        labelsChanged: changes.length,
        cellIds: rows.map((r) => r.cell.id),
        changes,
        jobId: ctx.job.id,
      },
      reason: "a new champion model predicted again the cells no human had decided yet",
    });
    return rows.length;
  }, WRITE_TX);
}

/**
 * A lock waited for past lock_timeout (PostgreSQL 55P03, "canceling statement due to lock
 * timeout"): the batch is tried again on the job's next run, without spending an attempt.
 */
function lockTimeoutToYield(err: unknown): never {
  const text = `${String(err)} ${JSON.stringify((err as { meta?: unknown; cause?: unknown })?.meta ?? null)} ${String((err as { cause?: unknown })?.cause ?? "")}`;
  if (/55P03|lock timeout/i.test(text)) throw new JobYieldedError("a lock was held too long; the batch is tried again");
  throw err;
}

/** Whether a slide analysis could start now (queued and due): it should not wait behind this job. */
async function analysesWaiting(prisma: PrismaClient): Promise<boolean> {
  const [row] = await prisma.$queryRaw<{ waiting: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM "job" WHERE "type" = ${ANALYZE_SLIDE} AND "status" = 'QUEUED' AND "runAfter" <= CURRENT_TIMESTAMP) AS waiting`;
  return row?.waiting ?? false;
}

/** The label a cell shows for a prediction, as analyzeSlide sets it: an abstention is unidentified. */
function labelOf(out: CellPrediction): string {
  return out.abstained ? UNIDENTIFIED : out.label;
}

async function assertStillChampion(db: Pick<PrismaClient, "modelVersion">, modelVersionId: string): Promise<void> {
  const now = await db.modelVersion.findUnique({ where: { id: modelVersionId }, select: { status: true } });
  if (now?.status !== "CHAMPION") throw new ChampionChangedError(`model ${modelVersionId} is no longer the champion`);
}

/**
 * FROM and WHERE of the cells this job predicts (see the header): undecided cells (`c`) of
 * finished, kept slides (`s`) of open cases (`k`) whose newest call is not this model's. One rule
 * for the job and for what the Models page counts as left (countCellsToRepredict).
 */
function openCellsDue(modelVersionId: string): Prisma.Sql {
  return Prisma.sql`FROM cell c JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
    WHERE k.status::text <> ALL(${[...SIGNED_STATUSES]}::text[])
      AND s."analysisStatus" = 'DONE' AND s."voidedAt" IS NULL AND c."reviewCount" = 0
      AND ${callDueSql("c", modelVersionId)}`;
}

/** Cells a re-prediction by this model would predict now (0 once it has run, crops missing aside). */
export async function countCellsToRepredict(db: Pick<PrismaClient, "$queryRaw">, modelVersionId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ cells: number }[]>`SELECT count(*)::int AS cells ${openCellsDue(modelVersionId)}`;
  return row?.cells ?? 0;
}

/** Open cases with undecided cells of finished, kept slides whose newest call is not this model's: STAT first, then oldest. */
function casesToRepredict(prisma: PrismaClient, modelVersionId: string): Promise<{ caseId: string; cells: number }[]> {
  return prisma.$queryRaw`
    SELECT k.id AS "caseId", count(*)::int AS cells
    ${openCellsDue(modelVersionId)}
    GROUP BY k.id, k.priority, k."createdAt"
    ORDER BY k.priority DESC, k."createdAt", k.id`;
}

function cellsToRepredict(prisma: PrismaClient, modelVersionId: string, caseId: string): Promise<CellToPredict[]> {
  return prisma.$queryRaw`
    SELECT c.id, c."cropSha256"
    ${openCellsDue(modelVersionId)} AND k.id = ${caseId}::uuid
    ORDER BY c.id`;
}
