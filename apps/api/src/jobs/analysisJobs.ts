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

/** `repredictOpenCases:<modelVersionId>:<crowning>`, and `:rerun<n>` for the n-th run asked for again in that reign. */
export const repredictionKey = (modelVersionId: string, crowning: number, rerun?: number) =>
  `${REPREDICT_OPEN_CASES}:${modelVersionId}:${crowning}${rerun ? `:rerun${rerun}` : ""}`;

/**
 * Call inside the transaction that makes `modelVersionId` the champion: its undecided cells of
 * open cases are predicted again by it. `crowning`: how many times this version has become
 * champion, this time included, so that a version rolled back to after an earlier reign gets a
 * job of its own (its first job's key would return that finished job) while the same change
 * never enqueues two. `rerun`: the n-th time a person runs it again in this reign
 * (rerunReprediction), a key of its own for the same reason.
 */
export function enqueueRepredictOpenCases(db: Db, modelVersionId: string, crowning: number, rerun?: number): Promise<Job> {
  return enqueueJob(db, {
    type: REPREDICT_OPEN_CASES,
    payload: { modelVersionId },
    dedupeKey: repredictionKey(modelVersionId, crowning, rerun),
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

/** A model's newest re-prediction job (its current reign's, or the run asked for again since), by payload. */
export function latestRepredictionJob(db: Pick<Db, "job">, modelVersionId: string): Promise<Job | null> {
  return db.job.findFirst({
    where: { type: REPREDICT_OPEN_CASES, payload: { path: ["modelVersionId"], equals: modelVersionId } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}
