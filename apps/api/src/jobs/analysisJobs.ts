// Enqueueing analysis: one job per slide, found again by its dedupe key (progress queries,
// re-runs) without scanning payloads.
import type { Job } from "@rcmnet/db";
import { enqueueJob, type Db } from "./queue.ts";

export const ANALYZE_SLIDE = "analyzeSlide";
export const TRAIN_MODEL = "trainModel";
export const REPREDICT_OPEN_CASES = "repredictOpenCases";

export const analysisKey = (slideId: string) => `${ANALYZE_SLIDE}:${slideId}`;
export const trainingKey = (runId: string) => `${TRAIN_MODEL}:${runId}`;

/** Call inside the upload transaction: the slide and its analysis job commit together. */
export function enqueueSlideAnalysis(db: Db, slideId: string): Promise<Job> {
  return enqueueJob(db, {
    type: ANALYZE_SLIDE,
    payload: { slideId },
    dedupeKey: analysisKey(slideId),
    maxAttempts: 3,
  });
}

export function enqueueTraining(db: Db, runId: string): Promise<Job> {
  // A worker killed mid-training resumes from the run's checkpoint on the next attempt.
  return enqueueJob(db, {
    type: TRAIN_MODEL,
    payload: { runId },
    dedupeKey: trainingKey(runId),
    maxAttempts: 3,
  });
}

/**
 * Call inside the transaction that makes `modelVersionId` the champion: its undecided cells of
 * open cases are predicted again by it. `crowning`: how many times this version has become
 * champion, this time included, so that a version rolled back to after an earlier reign gets a
 * job of its own (its first job's key would return that finished job) while the same change
 * never enqueues two.
 */
export function enqueueRepredictOpenCases(db: Db, modelVersionId: string, crowning: number): Promise<Job> {
  return enqueueJob(db, {
    type: REPREDICT_OPEN_CASES,
    payload: { modelVersionId },
    dedupeKey: `${REPREDICT_OPEN_CASES}:${modelVersionId}:${crowning}`,
    // Idempotent (a cell whose newest call is the model's is not called again), so a retry after a crash only finishes it.
    maxAttempts: 3,
  });
}

/** The analysis job of a slide: by dedupe key, else (enqueued without one) by payload. */
export async function findSlideJob(db: Db, slideId: string): Promise<Job | null> {
  return (
    (await db.job.findUnique({ where: { dedupeKey: analysisKey(slideId) } })) ??
    (await db.job.findFirst({
      where: { type: ANALYZE_SLIDE, payload: { path: ["slideId"], equals: slideId } },
      orderBy: { createdAt: "desc" },
    }))
  );
}
