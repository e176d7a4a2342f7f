// A worker that dies on a training job's last attempt (an out-of-memory kill on a large snapshot,
// say) never runs the handler's own failure path: the reaper marks the job FAILED, but the run
// would stay RUNNING, its page showing progress (or "Cancelling…") forever. Workers run this
// when idle, and a cancel of such a run settles it at once: the run takes the job's end (as it does
// of a run whose worker's lease has expired, cancelTrainingRun.ts: the cancel ends that job).
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Prisma, PrismaClient, RunStatus } from "@rcmnet/db";
import { trainingKey } from "./analysisJobs.ts";
import { redactPaths } from "./failureReason.ts";
import { systemAudit } from "./systemAudit.ts";

export const runDir = (dataDir: string, runId: string) => join(dataDir, "runs", runId);
/** Under the models dir, so the registry's path rule (models live there) holds. */
export const runModelDir = (dataDir: string, runId: string) => join(dataDir, "models", "runs", runId);

/** Whether a run is over (no worker will train it again): neither QUEUED nor RUNNING. */
export function runEnded(status: RunStatus): boolean {
  return status !== "QUEUED" && status !== "RUNNING";
}

/**
 * Removes what an ended run leaves on disk: its copies of the snapshot's TRAIN and VAL crops
 * (patient data, outside the blob store) and its checkpoint; its model folder too, unless it
 * registered a model (then the folder is the model's).
 */
export async function discardFilesOfRun(prisma: Pick<PrismaClient, "modelVersion">, dataDir: string, runId: string): Promise<void> {
  await rm(runDir(dataDir, runId), { recursive: true, force: true });
  const registered = await prisma.modelVersion.findUnique({ where: { trainingRunId: runId }, select: { id: true } });
  if (registered) await removeTrainingLeftovers(runModelDir(dataDir, runId));
  else await rm(runModelDir(dataDir, runId), { recursive: true, force: true });
}

/**
 * Empties a registered model's folder of what training left beside the model: the resume
 * checkpoint, and the staging folder of a save a killed worker left (a full set of weights the
 * model's card does not name). Once the run is settled no worker writes there any more.
 */
export async function removeTrainingLeftovers(modelDir: string): Promise<void> {
  await rm(join(modelDir, "checkpoint"), { recursive: true, force: true });
  const names = await readdir(modelDir).catch(() => [] as string[]);
  for (const name of names) if (name.startsWith(".saving-")) await rm(join(modelDir, name), { recursive: true, force: true });
}

/**
 * Inside a transaction: closes a QUEUED or RUNNING run whose job has ended; the status it got, or
 * null. `reason`: its training.status event's, where the caller knows better how the job ended
 * (a cancel that ended it because its worker's lease had expired).
 */
export async function settleRunOfEndedJob(tx: Prisma.TransactionClient, runId: string, reason = "its job had ended"): Promise<RunStatus | null> {
  const job = await tx.job.findUnique({ where: { dedupeKey: trainingKey(runId) }, select: { status: true, error: true } });
  if (job && (job.status === "QUEUED" || job.status === "RUNNING")) return null;
  // A model registered by the run means it got that far: the run succeeded, however it ended.
  const produced = await tx.modelVersion.findUnique({ where: { trainingRunId: runId }, select: { id: true, metrics: true } });
  const status: RunStatus = produced ? "SUCCEEDED" : job?.status === "CANCELLED" ? "CANCELLED" : "FAILED";
  const error = status === "FAILED" ? `the training job ended without closing the run: ${redactPaths(job?.error ?? "no job")}`.slice(0, 1000) : null;
  const done = await tx.trainingRun.updateMany({
    where: { id: runId, status: { in: ["QUEUED", "RUNNING"] } },
    data: {
      status,
      finishedAt: new Date(),
      ...(error ? { error } : {}),
      ...(produced ? { progress: 1, metrics: produced.metrics as Prisma.InputJsonObject } : {}),
    },
  });
  if (done.count === 0) return null;
  await systemAudit(tx, {
    action: "training.status",
    entityType: "TrainingRun",
    entityId: runId,
    after: { status, ...(produced ? { modelVersionId: produced.id } : {}), ...(error ? { error } : {}) },
    reason,
  });
  return status;
}

/** Settles the runs whose job ended without them, and removes their files (the handler that would have did not run). */
export async function reconcileTrainingRuns(prisma: PrismaClient, dataDir: string): Promise<number> {
  const stuck = await prisma.$queryRaw<{ id: string }[]>`
    SELECT r."id" FROM "training_run" r
    JOIN "job" j ON j."dedupeKey" = ${trainingKey("")} || r."id"::text
    WHERE r."status" IN ('QUEUED', 'RUNNING') AND j."status" IN ('FAILED', 'CANCELLED', 'SUCCEEDED')
    LIMIT 100`;
  let settled = 0;
  for (const run of stuck) {
    if (await prisma.$transaction((tx) => settleRunOfEndedJob(tx, run.id))) {
      settled++;
      await discardFilesOfRun(prisma, dataDir, run.id);
    }
  }
  return settled;
}
