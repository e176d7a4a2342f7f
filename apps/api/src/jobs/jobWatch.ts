// Whether a job nobody will finish is waiting silently: queued and due with no worker taking it
// (none running takes its type: RCMNET_WORKER_JOBS), or running with a lease nobody renews (its
// worker died or hangs). One rule for every reader: the champion's re-prediction
// (modules/models/reprediction.ts) and a training run (modules/training, TrainingRun). Both by the
// database's clock, which stamps runAfter and heartbeatAt (queue.ts).
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

const whereJob = (ref: JobRef) => ("id" in ref ? Prisma.sql`id = ${ref.id}::uuid` : Prisma.sql`"dedupeKey" = ${ref.dedupeKey}`);

/**
 * waitingForWorkerSince: when a QUEUED job became due, once that is longer ago than
 * WAITING_FOR_WORKER_MINUTES. stalledSince: a RUNNING job's last heartbeat, once older than
 * STALLED_AFTER_MS. At most one is set (by the job's status); both null for no such job.
 */
export async function jobWatch(db: Db, ref: JobRef): Promise<{ waitingForWorkerSince: Date | null; stalledSince: Date | null }> {
  const [row] = await db.$queryRaw<{ waiting: Date | null; stalled: Date | null }[]>`
    SELECT
      CASE WHEN status = 'QUEUED' AND "runAfter" < CURRENT_TIMESTAMP - ${WAITING_FOR_WORKER_MINUTES} * interval '1 minute'
           THEN "runAfter" END AS waiting,
      CASE WHEN status = 'RUNNING' AND "heartbeatAt" < CURRENT_TIMESTAMP - ${STALLED_AFTER_MS} * interval '1 millisecond'
           THEN "heartbeatAt" END AS stalled
    FROM "job" WHERE ${whereJob(ref)}`;
  return { waitingForWorkerSince: row?.waiting ?? null, stalledSince: row?.stalled ?? null };
}
