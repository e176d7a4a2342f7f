// Whether a job nobody will finish is waiting silently: queued and due with no worker taking it
// (none running takes its type: RCMNET_WORKER_JOBS), or running with a lease nobody renews (its
// worker died or hangs); and, of a queued one, whether a worker is alive but busy with the jobs
// ahead of it, which the dashboard had called "waiting for a worker" as if none ran. One rule for
// every reader: the champion's re-prediction (modules/models/reprediction.ts) and a training run
// (modules/training, TrainingRun). All by the database's clock, which stamps runAfter and
// heartbeatAt (queue.ts).
import { Prisma, type PrismaClient } from "@rcmnet/db";
import { DEFAULT_LEASE_MS } from "./runWorker.ts";

/**
 * Queued and due for longer than this with no worker taking it: said to be waiting for a worker.
 * A worker takes a due job within seconds of finishing its current one; one that takes several
 * types may first finish the jobs due before it (the queue is first in, first out across types).
 */
export const WAITING_FOR_WORKER_MINUTES = 5;

/**
 * Running with no heartbeat for longer than this: its worker stopped answering. A worker renews
 * every lease / 3 and a batch's transaction may hold the renewal back 15 s (repredictOpenCases.ts),
 * so within the lease it is alive; a living worker reaps an expired lease between its jobs (one
 * busy with a long analysis or a training run, later), so a further 90 s before saying so.
 */
export const STALLED_AFTER_MS = DEFAULT_LEASE_MS + 90_000;

type Db = Pick<PrismaClient, "$queryRaw">;

/** A job by its id, or by its dedupe key (a training run's: trainingKey). */
export type JobRef = { id: string } | { dedupeKey: string };

const whereJob = (ref: JobRef) => ("id" in ref ? Prisma.sql`t.id = ${ref.id}::uuid` : Prisma.sql`t."dedupeKey" = ${ref.dedupeKey}`);

export interface JobWatch {
  /** QUEUED and due for longer than WAITING_FOR_WORKER_MINUTES: since when it has been due. */
  waitingForWorkerSince: Date | null;
  /**
   * While waitingForWorkerSince, and another job holds a live lease (a worker renewed it within
   * DEFAULT_LEASE_MS, as the reaper judges): the jobs ahead of it, those running with a live lease
   * and those queued and due before it (a worker takes them first in, first out). A worker is then
   * alive and busy; null: no job holds a live lease, no worker is alive to take it. Counted over
   * every type: which types a worker takes is its own setting (RCMNET_WORKER_JOBS), not stored, so
   * one busy with analyses may yet not take this job once they are done.
   */
  queuedBehind: number | null;
  /** RUNNING with no heartbeat for longer than STALLED_AFTER_MS: its last heartbeat. */
  stalledSince: Date | null;
}

/** At most one of waitingForWorkerSince and stalledSince is set (by the job's status); all null for no such job. */
export async function jobWatch(db: Db, ref: JobRef): Promise<JobWatch> {
  const liveLease = Prisma.sql`o.status = 'RUNNING' AND o."heartbeatAt" >= CURRENT_TIMESTAMP - ${DEFAULT_LEASE_MS} * interval '1 millisecond'`;
  const [row] = await db.$queryRaw<{ waiting: Date | null; behind: number | null; stalled: Date | null }[]>`
    SELECT w.waiting,
      CASE WHEN w.waiting IS NOT NULL AND EXISTS (SELECT 1 FROM "job" o WHERE ${liveLease})
           THEN (SELECT count(*) FROM "job" o
                 WHERE (${liveLease})
                    OR (o.status = 'QUEUED' AND (o."runAfter", o."createdAt") < (w."runAfter", w."createdAt")))::int
      END AS behind,
      w.stalled
    FROM (
      SELECT t."runAfter", t."createdAt",
        CASE WHEN t.status = 'QUEUED' AND t."runAfter" < CURRENT_TIMESTAMP - ${WAITING_FOR_WORKER_MINUTES} * interval '1 minute'
             THEN t."runAfter" END AS waiting,
        CASE WHEN t.status = 'RUNNING' AND t."heartbeatAt" < CURRENT_TIMESTAMP - ${STALLED_AFTER_MS} * interval '1 millisecond'
             THEN t."heartbeatAt" END AS stalled
      FROM "job" t WHERE ${whereJob(ref)}
    ) w`;
  return { waitingForWorkerSince: row?.waiting ?? null, queuedBehind: row?.behind ?? null, stalledSince: row?.stalled ?? null };
}
