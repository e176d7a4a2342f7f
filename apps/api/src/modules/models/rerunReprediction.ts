// Runs the champion's re-prediction of open cases again, when its job failed after its attempts
// (a model folder restored since, a database outage) or left cells (crops restored to the blob
// store, a job from before such jobs were recorded): a new repredictOpenCases job, audited with
// the reason of the person who asked. The job itself runs as the system, as every re-prediction.
import type { ModelVersion, PrismaClient } from "@rcmnet/db";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { AuthUser } from "../../context.ts";
import { conflict, notFound } from "../../errors.ts";
import { enqueueRepredictOpenCases, REPREDICT_OPEN_CASES, repredictionKey } from "../../jobs/analysisJobs.ts";
import { isUuid } from "../../lib/pagination.ts";
import { lockChampionShared } from "./championLock.ts";
import { requireReason } from "./proposePromotion.ts";
import { repredictionOf } from "./reprediction.ts";
import { reignOf } from "./setChampion.ts";

export async function rerunReprediction(
  prisma: PrismaClient,
  actor: AuthUser,
  input: { modelVersionId: string; reason: string },
): Promise<ModelVersion> {
  const reason = requireReason(input.reason);
  if (!isUuid(input.modelVersionId)) throw notFound("Model version");
  return prisma.$transaction(async (tx) => {
    // Shared: a champion change (exclusive) waits for this to commit, and its own job follows.
    await lockChampionShared(tx);
    const version = await tx.modelVersion.findUnique({ where: { id: input.modelVersionId } });
    if (!version) throw notFound("Model version");
    const name = `${version.name} ${version.version}`;
    if (version.status !== "CHAMPION") {
      throw conflict(`${name} is not the champion (${version.status}): only the champion's re-prediction of open cases runs; a champion change enqueues its own`);
    }
    // Two asking at once: the second waits here, then finds the first one's job queued.
    await tx.$queryRaw`SELECT 1 FROM "model_version" WHERE "id" = ${version.id}::uuid FOR UPDATE`;
    const now = (await repredictionOf(tx, version))!;
    if (now.status === "QUEUED" || now.status === "RUNNING") {
      throw conflict(`The re-prediction of open cases by ${name} is already ${now.status === "QUEUED" ? "queued" : "running"} (job ${now.jobId}): wait for it to finish`, {
        jobId: now.jobId,
      });
    }
    if (!now.rerunnable) {
      throw conflict(`No undecided cell of an open case is left for ${name} to predict: the re-prediction has nothing to do`, { cellsLeft: 0 });
    }
    const reign = await reignOf(tx, version.id);
    // A key of its own (the reign's first would return its finished job), numbered in the reign;
    // the version's row lock keeps two from taking one number.
    const earlier = await tx.job.count({ where: { type: REPREDICT_OPEN_CASES, dedupeKey: { startsWith: `${repredictionKey(version.id, reign)}:rerun` } } });
    const job = await enqueueRepredictOpenCases(tx, version.id, reign, earlier + 1);
    if (job.id === now.jobId || job.status !== "QUEUED" || job.attempts !== 0) throw new Error(`rerunReprediction: key ${job.dedupeKey} was taken by job ${job.id}`);
    await recordAudit(tx, actor, {
      action: "model.rerunReprediction",
      entityType: "ModelVersion",
      entityId: version.id,
      before: { jobId: now.jobId, status: now.status, attempts: now.attempts, cellsLeft: now.cellsLeft },
      after: { jobId: job.id, dedupeKey: job.dedupeKey },
      reason,
    });
    return version;
  });
}
