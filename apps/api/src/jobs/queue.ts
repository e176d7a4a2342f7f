// A job queue in PostgreSQL (the `job` table). Any number of worker processes on any number of
// machines share it: a job is claimed by one UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP
// LOCKED), so two workers never take the same row, and a claimed job carries a lease that its
// worker renews (heartbeat). A worker that dies stops renewing; once the lease has expired the
// job is requeued with backoff (or failed after maxAttempts) by whichever worker looks next.
//
// All times come from the database clock (now()), never from the worker's, so machines with
// skewed clocks still agree on who holds a lease. Every function is one short statement: the
// embedded PGlite serialises all connections, so nothing here may hold a transaction open.
import type { Job, Prisma, PrismaClient } from "@rcmnet/db";

/** A Prisma client or a transaction client: enqueueing inside the caller's transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

export interface EnqueueOptions {
  type: string;
  payload: Prisma.InputJsonValue;
  /** Same key, same job: a second enqueue with a key already in the table returns the first job. */
  dedupeKey?: string;
  /** Attempts before the job is marked FAILED (a worker death counts as an attempt). */
  maxAttempts?: number;
  /** Do not start before this time. */
  runAfter?: Date;
}

/**
 * Adds a job (inside the caller's transaction when given one, so that e.g. an upload and its
 * analysis job commit together or not at all). Uses ON CONFLICT DO NOTHING rather than catching
 * a unique violation, because a violation would abort the caller's whole transaction.
 */
export async function enqueueJob(db: Db, options: EnqueueOptions): Promise<Job> {
  const { type, payload, dedupeKey = null, maxAttempts = 3, runAfter = null } = options;
  if (!type) throw new Error("enqueueJob: type is required");
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error("enqueueJob: maxAttempts must be a positive integer");
  }
  const rows = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO "job" ("id", "type", "payload", "dedupeKey", "maxAttempts", "runAfter")
    VALUES (gen_random_uuid(), ${type}, ${JSON.stringify(payload)}::jsonb, ${dedupeKey},
            ${maxAttempts}, COALESCE(${runAfter}::timestamp(3), CURRENT_TIMESTAMP))
    ON CONFLICT ("dedupeKey") DO NOTHING
    RETURNING "id"`;
  const id = rows[0]?.id;
  const job = id
    ? await db.job.findUnique({ where: { id } })
    : await db.job.findUnique({ where: { dedupeKey: dedupeKey ?? undefined } });
  if (!job) throw new Error("enqueueJob: job vanished right after insert");
  return job;
}

export interface ClaimOptions {
  workerId: string;
  /** Only these job types (a worker without a handler for a type must not take it). */
  types: string[];
  /** How long a claim stays valid without a heartbeat. */
  leaseMs: number;
}

/** Backoff before a retry: 2 s, 4 s, 8 s ... capped at 5 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(2_000 * 2 ** Math.max(0, attempts - 1), 300_000);
}

/**
 * Requeues (with backoff) or fails the jobs whose lease has expired, i.e. whose worker died or
 * hung. Idempotent and safe to run from every worker at once (row locks, skip locked).
 * Returns how many jobs were recovered.
 */
export async function reapExpiredLeases(db: Db, leaseMs: number): Promise<number> {
  return db.$executeRaw`
    UPDATE "job" SET
      "status" = CASE WHEN "attempts" >= "maxAttempts" THEN 'FAILED'::"JobStatus" ELSE 'QUEUED'::"JobStatus" END,
      "error" = 'worker ' || COALESCE("lockedBy", '?') || ' stopped renewing its lease (attempt '
                || "attempts" || ' of ' || "maxAttempts" || ')',
      "finishedAt" = CASE WHEN "attempts" >= "maxAttempts" THEN CURRENT_TIMESTAMP ELSE NULL END,
      "runAfter" = CURRENT_TIMESTAMP + LEAST(2000 * power(2, GREATEST("attempts" - 1, 0)), 300000)
                   * interval '1 millisecond',
      "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL
    WHERE "id" IN (
      SELECT "id" FROM "job"
      WHERE "status" = 'RUNNING'
        AND "heartbeatAt" < CURRENT_TIMESTAMP - ${leaseMs} * interval '1 millisecond'
      FOR UPDATE SKIP LOCKED)`;
}

/** Claims the oldest runnable job of the given types, or returns null when there is none. */
export async function claimJob(db: Db, { workerId, types }: ClaimOptions): Promise<Job | null> {
  if (types.length === 0) return null;
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "job" SET
      "status" = 'RUNNING', "attempts" = "attempts" + 1, "lockedBy" = ${workerId},
      "lockedAt" = CURRENT_TIMESTAMP, "heartbeatAt" = CURRENT_TIMESTAMP
    WHERE "id" = (
      SELECT "id" FROM "job"
      WHERE "status" = 'QUEUED' AND "runAfter" <= CURRENT_TIMESTAMP AND "type" = ANY(${types}::text[])
      ORDER BY "runAfter", "createdAt"
      FOR UPDATE SKIP LOCKED
      LIMIT 1)
    RETURNING "id"`;
  const id = rows[0]?.id;
  return id ? db.job.findUnique({ where: { id } }) : null;
}

/**
 * Renews the lease and optionally records progress. Returns false when this worker no longer
 * holds the job (cancelled, or the lease expired and another worker took it): the caller must
 * then stop working on it and write nothing more.
 */
export async function heartbeat(
  db: Db,
  jobId: string,
  workerId: string,
  progress?: { progress?: number; step?: string },
): Promise<boolean> {
  const value = progress?.progress === undefined ? null : Math.max(0, Math.min(1, progress.progress));
  const step = progress?.step ?? null;
  const count = await db.$executeRaw`
    UPDATE "job" SET "heartbeatAt" = CURRENT_TIMESTAMP,
      "progress" = COALESCE(${value}::double precision, "progress"),
      "step" = COALESCE(${step}::text, "step")
    WHERE "id" = ${jobId}::uuid AND "lockedBy" = ${workerId} AND "status" = 'RUNNING'`;
  return count === 1;
}

/**
 * Marks the job done (SUCCEEDED, or CANCELLED when the handler stopped on a cancel request of its
 * own domain, e.g. a training run). Returns false if this worker had lost the job meanwhile.
 */
export async function completeJob(
  db: Db,
  jobId: string,
  workerId: string,
  outcome: "SUCCEEDED" | "CANCELLED" = "SUCCEEDED",
): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE "job" SET "status" = ${outcome}::"JobStatus",
      "progress" = CASE WHEN ${outcome}::text = 'SUCCEEDED' THEN 1 ELSE "progress" END,
      "finishedAt" = CURRENT_TIMESTAMP,
      "error" = NULL, "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL
    WHERE "id" = ${jobId}::uuid AND "lockedBy" = ${workerId} AND "status" = 'RUNNING'`;
  return count === 1;
}

/**
 * Gives a running job back to the queue without counting the attempt (graceful shutdown): the
 * next worker starts it at once; long jobs resume from their checkpoints.
 */
export async function releaseJob(db: Db, jobId: string, workerId: string, step = "released by a stopping worker"): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE "job" SET "status" = 'QUEUED', "attempts" = GREATEST("attempts" - 1, 0),
      "runAfter" = CURRENT_TIMESTAMP, "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL,
      "step" = ${step}
    WHERE "id" = ${jobId}::uuid AND "lockedBy" = ${workerId} AND "status" = 'RUNNING'`;
  return count === 1;
}

/**
 * Records a failure. A retryable failure requeues the job with backoff while attempts remain;
 * a permanent one (bad input, missing data) fails it at once. Returns the resulting status, or
 * null if this worker had lost the job meanwhile.
 */
export async function failJob(
  db: Db,
  jobId: string,
  workerId: string,
  error: string,
  { retryable }: { retryable: boolean },
): Promise<"QUEUED" | "FAILED" | null> {
  const message = error.slice(0, 2000);
  const rows = await db.$queryRaw<{ status: "QUEUED" | "FAILED" }[]>`
    UPDATE "job" SET
      "status" = CASE WHEN ${retryable} AND "attempts" < "maxAttempts"
                      THEN 'QUEUED'::"JobStatus" ELSE 'FAILED'::"JobStatus" END,
      "finishedAt" = CASE WHEN ${retryable} AND "attempts" < "maxAttempts"
                          THEN NULL ELSE CURRENT_TIMESTAMP END,
      "runAfter" = CURRENT_TIMESTAMP + LEAST(2000 * power(2, GREATEST("attempts" - 1, 0)), 300000)
                   * interval '1 millisecond',
      "error" = ${message}, "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL
    WHERE "id" = ${jobId}::uuid AND "lockedBy" = ${workerId} AND "status" = 'RUNNING'
    RETURNING "status"::text AS "status"`;
  return rows[0]?.status ?? null;
}

/**
 * Cancels a job that has not finished. A queued job is never started; a running one is taken
 * away from its worker, whose next heartbeat returns false and aborts the handler.
 * Returns false when the job had already finished (or does not exist).
 */
export async function cancelJob(db: Db, jobId: string, reason = "cancelled"): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE "job" SET "status" = 'CANCELLED', "finishedAt" = CURRENT_TIMESTAMP, "error" = ${reason},
      "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL
    WHERE "id" = ${jobId}::uuid AND "status" IN ('QUEUED', 'RUNNING')`;
  return count === 1;
}

/**
 * Cancels a RUNNING job whose lease has expired by the database's clock, as reapExpiredLeases
 * judges it (its worker died or hangs): nobody is left to stop it. One statement, so a renewal
 * that commits first makes it a no-op. Returns false while a worker holds a live lease (that
 * worker stops the job itself) or when the job is not running. A worker that was only hanging
 * finds the job gone at its next heartbeat, as after a reap, and writes nothing more.
 */
export async function cancelExpiredLease(db: Db, jobId: string, leaseMs: number, reason: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE "job" SET "status" = 'CANCELLED', "finishedAt" = CURRENT_TIMESTAMP,
      "error" = ${reason}::text || ' after worker ' || COALESCE("lockedBy", '?') || ' stopped renewing its lease',
      "lockedBy" = NULL, "lockedAt" = NULL, "heartbeatAt" = NULL
    WHERE "id" = ${jobId}::uuid AND "status" = 'RUNNING'
      AND "heartbeatAt" < CURRENT_TIMESTAMP - ${leaseMs} * interval '1 millisecond'`;
  return count === 1;
}
