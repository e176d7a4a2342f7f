import type { ModelVersion, Prisma } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { lockChampion } from "./championLock.ts";
import { enqueueRepredictOpenCases } from "../../jobs/analysisJobs.ts";

/**
 * Makes `target` the one champion inside the caller's transaction: the current champion is
 * ARCHIVED (its predictions keep pointing at it forever). From the next analysis on, the
 * worker predicts with the new champion, and a repredictOpenCases job, committed with the change,
 * predicts the undecided cells of open cases again with it. `actor` null: the system (the demo seed, or a first champion from RCMNET_MODEL_DIR at start: seed/modelDirChampion.ts).
 */
export async function setChampion(
  tx: Prisma.TransactionClient,
  actor: AuthUser | null,
  target: ModelVersion,
  reason: string,
): Promise<void> {
  await lockChampion(tx);
  const previous = await tx.modelVersion.findMany({ where: { status: "CHAMPION", id: { not: target.id } } });
  for (const p of previous) {
    await tx.modelVersion.update({ where: { id: p.id }, data: { status: "ARCHIVED" } });
    await recordAudit(tx, actor, {
      action: "model.status",
      entityType: "ModelVersion",
      entityId: p.id,
      before: { status: "CHAMPION" },
      after: { status: "ARCHIVED" },
      reason,
    });
  }
  await tx.modelVersion.update({ where: { id: target.id }, data: { status: "CHAMPION" } });
  await recordAudit(tx, actor, {
    action: "model.championChanged",
    entityType: "ModelVersion",
    entityId: target.id,
    before: { status: target.status, previousChampionIds: previous.map((p) => p.id) },
    after: { status: "CHAMPION", name: target.name, version: target.version },
    reason,
  });
  // Counted under the champion lock, this change's event included: 1 for a first reign.
  await enqueueRepredictOpenCases(tx, target.id, await reignOf(tx, target.id));
}

/**
 * How many times the version has become champion (its model.championChanged events): the number
 * of its current reign while it is champion, which its re-prediction jobs' dedupe keys carry.
 */
export function reignOf(tx: Pick<Prisma.TransactionClient, "auditEvent">, modelVersionId: string): Promise<number> {
  return tx.auditEvent.count({
    where: { action: "model.championChanged", entityType: "ModelVersion", entityId: modelVersionId },
  });
}
