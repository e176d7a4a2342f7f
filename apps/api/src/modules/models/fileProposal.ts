// The part of proposing that promotion and rollback share: one open proposal per model version,
// recorded with its audit event and the champion it would replace in the caller's transaction.
import type { ModelPromotion, ModelVersion, Prisma, PromotionKind } from "@rcmnet/db";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { AuthUser } from "../../context.ts";
import { conflict } from "../../errors.ts";
import { assertKeepsClasses, lostClasses } from "./keepsClasses.ts";

export async function fileProposal(
  tx: Prisma.TransactionClient,
  actor: AuthUser,
  version: ModelVersion,
  kind: PromotionKind,
  reason: string,
  /** What the decider should know beside the reason (e.g. test-set leakage); kept in the audit event. */
  evidence: Record<string, Prisma.InputJsonValue> = {},
): Promise<ModelPromotion> {
  // Two proposals for one version at once: the second waits here and then finds the first.
  await tx.$queryRaw`SELECT 1 FROM "model_version" WHERE "id" = ${version.id}::uuid FOR UPDATE`;
  const pending = await tx.modelPromotion.findFirst({
    where: { modelVersionId: version.id, state: "PROPOSED" },
  });
  if (pending)
    throw conflict("A proposal for this model version is already waiting for a decision", {
      promotionId: pending.id,
    });
  const champion = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" }, select: { id: true, name: true, version: true, labels: true } });
  // A promotion must keep the champion's classes. A rollback may lose some (the emergency way
  // back past a promotion that added a class): the approver is told which.
  const lost = lostClasses(version, champion);
  if (kind === "PROMOTE") assertKeepsClasses(version, champion);
  const promotion = await tx.modelPromotion.create({
    data: { modelVersionId: version.id, kind, reason, proposedById: actor.id, replacesChampionId: champion?.id ?? null },
  });
  await recordAudit(tx, actor, {
    action: kind === "PROMOTE" ? "model.proposePromotion" : "model.proposeRollback",
    entityType: "ModelPromotion",
    entityId: promotion.id,
    after: {
      modelVersionId: version.id,
      name: version.name,
      version: version.version,
      kind,
      replacesChampionId: champion?.id ?? null,
      ...(lost.length ? { lostClasses: lost } : {}),
      ...evidence,
    },
    reason,
  });
  return promotion;
}
