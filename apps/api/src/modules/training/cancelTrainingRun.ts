// Cancels a training run. A queued run stops at once; a running one is stopped by its worker,
// which polls the flag between batches and records the run as CANCELLED. A run with no worker left
// to stop it is settled at once with its job's end: one whose job has already ended (its worker
// died on the last attempt), and one whose job's lease has expired by the database's clock (its
// worker died or hangs): this cancel ends that job, so no worker takes it again. Waiting instead
// for a living worker to reap and retry it kept new runs refused for minutes (for good where no
// worker takes trainModel jobs). A worker that was only hanging writes nothing more when it comes
// back: trainModel's writes are conditioned on holding the job, and its registration re-reads
// cancelRequested under the run's row lock, which this takes too.
//
// Like the other model-lifecycle mutations (promotion, rollback, re-prediction), it requires a
// reason: trimmed, 1 to MAX_REASON characters, refused (BAD_USER_INPUT) before anything is read or
// written, and kept as the training.cancel event's reason (the run has no column of its own for it).
import type { PrismaClient, TrainingRun } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { cancelExpiredLease, cancelJob } from "../../jobs/queue.ts";
import { DEFAULT_LEASE_MS } from "../../jobs/runWorker.ts";
import { trainingKey } from "../../jobs/analysisJobs.ts";
import { discardFilesOfRun, runEnded, settleRunOfEndedJob } from "../../jobs/reconcileTrainingRuns.ts";
import { requireReason } from "../models/proposePromotion.ts";

export async function cancelTrainingRun(
  prisma: PrismaClient,
  actor: AuthUser,
  input: { id: string; reason: string },
  dataDir: string,
): Promise<TrainingRun> {
  const reason = requireReason(input.reason);
  const { id } = input;
  if (!isUuid(id)) throw notFound("Training run");
  const updated = await prisma.$transaction(async (tx) => {
    // Locked: two cancels at once record one cancellation, and a worker's claim of the job waits.
    await tx.$queryRaw`SELECT 1 FROM "training_run" WHERE id = ${id}::uuid FOR UPDATE`;
    const run = await tx.trainingRun.findUnique({ where: { id } });
    if (!run) throw notFound("Training run");
    if (runEnded(run.status)) {
      throw conflict(`The training run has already finished (${run.status})`);
    }
    let updated: TrainingRun;
    // Its job locked too, so that it stays as read until this commits: a worker claiming it now
    // skips it (claimJob takes jobs SKIP LOCKED), a reaper too, and a lease renewal waits.
    await tx.$queryRaw`SELECT 1 FROM "job" WHERE "dedupeKey" = ${trainingKey(run.id)} FOR UPDATE`;
    const job = await tx.job.findUnique({ where: { dedupeKey: trainingKey(run.id) } });
    // A run no worker will stop, flagged and closed with its (ended) job's end.
    const settle = async (why?: string) => {
      await tx.trainingRun.update({ where: { id }, data: { cancelRequested: true } });
      await settleRunOfEndedJob(tx, id, why);
      return tx.trainingRun.findUniqueOrThrow({ where: { id } });
    };
    if (run.status === "QUEUED" && job?.status === "QUEUED") {
      // Never started: nothing to wait for.
      await cancelJob(tx, job.id, "training run cancelled");
      updated = await tx.trainingRun.update({
        where: { id },
        data: { cancelRequested: true, status: "CANCELLED", finishedAt: new Date() },
      });
    } else if (job?.status === "QUEUED") {
      // Handed back to the queue after its worker stopped (a living worker reaped its lease): no
      // worker holds it, and none that takes trainModel jobs may be running to take it again. Its
      // job is cancelled here (under the run's lock, which a worker taking it waits for before it
      // writes into the run), and the run settled with it: CANCELLED, or SUCCEEDED where its model
      // was registered before its worker stopped.
      await cancelJob(tx, job.id, "training run cancelled");
      updated = await settle("cancelled while handed back to the queue after its worker stopped");
    } else if (!job || job.status !== "RUNNING") {
      // Its job has ended (its worker died on the last attempt): no worker is left to stop it.
      updated = await settle();
    } else if (await cancelExpiredLease(tx, job.id, DEFAULT_LEASE_MS, "training run cancelled")) {
      // The lease the workers take (worker.ts sets no other). A model registered before its worker
      // stopped still makes the run SUCCEEDED (settleRunOfEndedJob), as the handler would.
      updated = await settle("cancelled after its worker stopped renewing its job's lease");
    } else {
      // Its worker holds a live lease and stops it within seconds. Asked again meanwhile: refused,
      // it is on its way. (A run whose cancel was asked for before its worker stopped is ended by
      // the branches above when asked again: no worker is left to act on the first request.)
      if (run.cancelRequested) {
        throw conflict("Cancellation was already requested: the worker training the run stops it within seconds (while it evaluates the model on the TEST part, before registering it)");
      }
      updated = await tx.trainingRun.update({ where: { id }, data: { cancelRequested: true } });
    }
    await recordAudit(tx, actor, {
      action: "training.cancel",
      entityType: "TrainingRun",
      entityId: id,
      before: { status: run.status },
      after: { status: updated.status, cancelRequested: true },
      reason,
    });
    return updated;
  });
  // Ended here (no worker will): nothing of it stays on disk. A running one's worker cleans up.
  if (runEnded(updated.status)) await discardFilesOfRun(prisma, dataDir, id);
  return updated;
}
