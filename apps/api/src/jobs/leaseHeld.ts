// Shared by the handlers that write clinical rows: a heartbeat only notices a lost lease at the
// next step, so each write's transaction checks it again.
import type { Prisma } from "@rcmnet/db";
import { JobAbortedError, type JobContext } from "./types.ts";

/**
 * Inside a write's transaction: this worker still holds the job, and keeps it until the write
 * commits (the row is share-locked, so the reaper waits). A worker that stalled past its lease
 * (reaped, cancelled, or taken by another worker) writes nothing more: no cells, predictions or
 * status change can reach a case after it was failed, signed, or handed to another attempt.
 */
export async function assertLeaseHeld(tx: Prisma.TransactionClient, ctx: Pick<JobContext, "job" | "workerId">): Promise<void> {
  const held = await tx.$queryRaw<unknown[]>`
    SELECT 1 FROM "job" WHERE "id" = ${ctx.job.id}::uuid AND "lockedBy" = ${ctx.workerId} AND "status" = 'RUNNING' FOR SHARE`;
  if (held.length === 0) throw new JobAbortedError(`job ${ctx.job.id} is no longer held by worker ${ctx.workerId}: nothing written`);
}
