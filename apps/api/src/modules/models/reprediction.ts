// Whether the champion has predicted again the undecided cells of open cases since it became
// champion: the repredictOpenCases job its change enqueued (jobs/handlers/repredictOpenCases.ts).
// A job that failed after its attempts, or that stays queued because no worker takes its type
// (RCMNET_WORKER_JOBS), leaves those cells on the replaced (perhaps withdrawn) model's calls: the
// Models page shows this, and rerunReprediction runs it again.
import type { Job, ModelVersion, PrismaClient } from "@rcmnet/db";
import { ANALYZE_SLIDE, latestRepredictionJob, REPREDICT_OPEN_CASES } from "../../jobs/analysisJobs.ts";
import { countCellsToRepredict } from "../../jobs/handlers/repredictOpenCases.ts";
// Waiting for a worker and stalled: one rule with a training run's (jobs/jobWatch.ts). A
// re-prediction comes in the inference worker's queue after the analyses due before it (seconds
// each, but a batch upload queues hundreds): whether a worker took such a job (analyzeSlide,
// repredictOpenCases) within as long tells a busy worker from none that takes the type (workerBusy).
import { jobWatch, WAITING_FOR_WORKER_MINUTES } from "../../jobs/jobWatch.ts";

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
  /** While waiting: the latest claim, heartbeat or finish of an analyzeSlide or repredictOpenCases job within the last 5 minutes (null: none, no worker takes them). */
  workerSeenAt: Date | null;
  /** While waiting: slide analyses queued and due before it (a busy worker takes them first). */
  analysesAhead: number;
  /** RUNNING with no heartbeat for longer than the lease and a margin: its last heartbeat. */
  stalledSince: Date | null;
  rerunnable: boolean;
}

/** The champion's re-prediction (null for any other version). */
export async function repredictionOf(db: Db, version: Pick<ModelVersion, "id" | "status">): Promise<Reprediction | null> {
  if (version.status !== "CHAMPION") return null;
  const job = await latestRepredictionJob(db, version.id);
  const [cellsLeft, cellsPredicted, { waitingForWorkerSince, stalledSince }] = await Promise.all([
    countCellsToRepredict(db, version.id),
    job ? cellsPredictedBy(db, job.id) : 0,
    job ? jobWatch(db, { id: job.id }) : { waitingForWorkerSince: null, stalledSince: null },
  ]);
  const busy = job && waitingForWorkerSince ? await workerBusy(db, job) : { workerSeenAt: null, analysesAhead: 0 };
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
    ...busy,
    stalledSince,
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
  // Running its next attempt: the one counted in attempts is this one, the failed one before it.
  if (job.status === "RUNNING") return `attempt ${job.attempts - 1} failed; attempt ${job.attempts} of ${job.maxAttempts} running (${where})`;
  // Queued again after a failed attempt.
  return `attempt ${job.attempts} of ${job.maxAttempts} failed and is retried (${where})`;
}

/** Cells the job gave a new prediction: its case.repredict events (one a batch, each counting its cells). */
async function cellsPredictedBy(db: Pick<PrismaClient, "$queryRaw">, jobId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ cells: number }[]>`
    SELECT coalesce(sum((e."after"->>'cells')::int), 0)::int AS cells FROM audit_event e
    WHERE e.action = 'case.repredict' AND e."after"->>'jobId' = ${jobId}`;
  return row?.cells ?? 0;
}

/**
 * Whether a worker that takes inference jobs is alive but busy: one of them claimed, renewed or
 * finished such a job within the waiting threshold (a lease the reaper took back, or a cancel, is
 * no sign of one), and the slide analyses due before this job that it takes first.
 */
async function workerBusy(db: Pick<PrismaClient, "$queryRaw">, job: Job): Promise<{ workerSeenAt: Date | null; analysesAhead: number }> {
  const [row] = await db.$queryRaw<{ seen: Date | null; ahead: number }[]>`
    SELECT
      (SELECT max(CASE WHEN status = 'RUNNING' THEN "heartbeatAt" ELSE "finishedAt" END) FROM "job"
        WHERE type IN (${ANALYZE_SLIDE}, ${REPREDICT_OPEN_CASES})
          AND (status = 'RUNNING' OR status = 'SUCCEEDED'
               OR (status = 'FAILED' AND coalesce(error, '') NOT LIKE 'worker % stopped renewing its lease%'))
          AND CASE WHEN status = 'RUNNING' THEN "heartbeatAt" ELSE "finishedAt" END
              > CURRENT_TIMESTAMP - ${WAITING_FOR_WORKER_MINUTES} * interval '1 minute') AS seen,
      (SELECT count(*) FROM "job"
        WHERE type = ${ANALYZE_SLIDE} AND status = 'QUEUED'
          AND ("runAfter", "createdAt") < (SELECT "runAfter", "createdAt" FROM "job" WHERE id = ${job.id}::uuid))::int AS ahead`;
  return { workerSeenAt: row?.seen ?? null, analysesAhead: row?.ahead ?? 0 };
}
