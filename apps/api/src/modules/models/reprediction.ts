// Whether the champion has predicted again the undecided cells of open cases since it became
// champion: the repredictOpenCases job its change enqueued (jobs/handlers/repredictOpenCases.ts).
// A job that failed after its attempts, or that stays queued because no worker takes its type
// (RCMNET_WORKER_JOBS), leaves those cells on the replaced (perhaps withdrawn) model's calls: the
// Models page shows this, and rerunReprediction runs it again.
import type { Job, ModelVersion, PrismaClient } from "@rcmnet/db";
import { latestRepredictionJob } from "../../jobs/analysisJobs.ts";
import { countCellsToRepredict } from "../../jobs/handlers/repredictOpenCases.ts";

/**
 * Queued and due for longer than this with no worker taking it: said to be waiting for a worker.
 * A re-prediction is first in the inference worker's queue after the analyses enqueued before it
 * (seconds each), so minutes without a claim mean no worker takes the type, or none runs.
 */
const WAITING_FOR_WORKER_MINUTES = 5;

type Db = Pick<PrismaClient, "$queryRaw" | "job">;

export type RepredictionStatus = "NONE" | "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED";

export interface Reprediction {
  status: RepredictionStatus;
  jobId: string | null;
  progress: number;
  step: string | null;
  error: string | null;
  attempts: number;
  maxAttempts: number;
  queuedAt: Date | null;
  finishedAt: Date | null;
  cellsLeft: number;
  cellsPredicted: number;
  waitingForWorkerSince: Date | null;
  rerunnable: boolean;
}

/** The champion's re-prediction (null for any other version). */
export async function repredictionOf(db: Db, version: Pick<ModelVersion, "id" | "status">): Promise<Reprediction | null> {
  if (version.status !== "CHAMPION") return null;
  const job = await latestRepredictionJob(db, version.id);
  const [cellsLeft, cellsPredicted, waitingForWorkerSince] = await Promise.all([
    countCellsToRepredict(db, version.id),
    job ? cellsPredictedBy(db, job.id) : 0,
    job?.status === "QUEUED" ? waitingSince(db, job.id) : null,
  ]);
  const status = statusOf(job);
  return {
    status,
    jobId: job?.id ?? null,
    progress: job?.progress ?? 0,
    step: job?.step ?? null,
    error: job ? errorForReaders(job) : null,
    attempts: job?.attempts ?? 0,
    maxAttempts: job?.maxAttempts ?? 0,
    queuedAt: job?.createdAt ?? null,
    finishedAt: job?.finishedAt ?? null,
    cellsLeft,
    cellsPredicted,
    waitingForWorkerSince,
    rerunnable: rerunnable(status, cellsLeft),
  };
}

/** Failed, or cells left with nothing queued or running: one rule for the page's button and the mutation. */
export function rerunnable(status: RepredictionStatus, cellsLeft: number): boolean {
  return status === "FAILED" || (status !== "QUEUED" && status !== "RUNNING" && cellsLeft > 0);
}

/** A cancelled job (nothing cancels these today) left its cells as a failed one does. */
function statusOf(job: Job | null): RepredictionStatus {
  if (!job) return "NONE";
  return job.status === "CANCELLED" ? "FAILED" : job.status;
}

/**
 * The stored error is the worker's own message (driver messages, paths, host names): for its log.
 * Readers are told what happened and where to look, as for a slide analysis (jobErrorForReaders).
 */
function errorForReaders(job: Job): string | null {
  if (!job.error) return null;
  const where = `the worker log has the details under job ${job.id}`;
  if (job.status === "CANCELLED") return `cancelled (${where})`;
  if (job.status === "FAILED") return `gave up after ${job.attempts} of ${job.maxAttempts} attempts (${where})`;
  // Queued again after a failed attempt, or running its next one.
  return `attempt ${job.attempts} of ${job.maxAttempts} failed and is retried (${where})`;
}

/** Cells the job gave a new prediction: its case.repredict events (one a batch, each counting its cells). */
async function cellsPredictedBy(db: Pick<PrismaClient, "$queryRaw">, jobId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ cells: number }[]>`
    SELECT coalesce(sum((e."after"->>'cells')::int), 0)::int AS cells FROM audit_event e
    WHERE e.action = 'case.repredict' AND e."after"->>'jobId' = ${jobId}`;
  return row?.cells ?? 0;
}

/** When a queued job became due, if that was longer ago than the threshold by the database's clock (which sets runAfter). */
async function waitingSince(db: Pick<PrismaClient, "$queryRaw">, jobId: string): Promise<Date | null> {
  const [row] = await db.$queryRaw<{ since: Date }[]>`
    SELECT "runAfter" AS since FROM "job"
    WHERE id = ${jobId}::uuid AND status = 'QUEUED'
      AND "runAfter" < CURRENT_TIMESTAMP - ${WAITING_FOR_WORKER_MINUTES} * interval '1 minute'`;
  return row?.since ?? null;
}
