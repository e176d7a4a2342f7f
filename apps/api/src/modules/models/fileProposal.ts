// The part of proposing that promotion and rollback share: one open proposal per model version,
// recorded with its audit event in the caller's transaction.
import type { ModelPromotion, ModelVersion, Prisma, PromotionKind } from "@rcmnet/db";
import { recordAudit } from "../../audit/recordAudit.ts";
import type { AuthUser } from "../../context.ts";
import { conflict } from "../../errors.ts";

export async function fileProposal(
  tx: Prisma.TransactionClient,
  actor: AuthUser,
  version: ModelVersion,
  kind: PromotionKind,
  reason: string,
): Promise<ModelPromotion> {
  const pending = await tx.modelPromotion.findFirst({
    where: { modelVersionId: version.id, state: "PROPOSED" },
  });
  if (pending)
    throw conflict("A proposal for this model version is already waiting for a decision", {
      promotionId: pending.id,
    });
  const promotion = await tx.modelPromotion.create({
    data: { modelVersionId: version.id, kind, reason, proposedById: actor.id },
  });
  await recordAudit(tx, actor, {
    action: kind === "PROMOTE" ? "model.proposePromotion" : "model.proposeRollback",
    entityType: "ModelPromotion",
    entityId: promotion.id,
    after: { modelVersionId: version.id, name: version.name, version: version.version, kind },
    reason,
  });
  return promotion;
}
