// Rollback is one approved step: propose an earlier champion (ARCHIVED now) to serve again;
// an ADMIN other than the proposer approves it with decidePromotion. Without a target, the
// most recent earlier champion is chosen.
import type { ModelPromotion, Prisma, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { fileProposal } from "./fileProposal.ts";
import { requireReason } from "./proposePromotion.ts";

export async function proposeRollback(
  prisma: PrismaClient,
  actor: AuthUser,
  input: { reason: string; modelVersionId?: string | null },
): Promise<ModelPromotion> {
  const reason = requireReason(input.reason);
  if (input.modelVersionId != null && !isUuid(input.modelVersionId)) throw notFound("Model version");
  return prisma.$transaction(async (tx) => {
    const target = input.modelVersionId
      ? await tx.modelVersion.findUnique({ where: { id: input.modelVersionId } })
      : await previousChampion(tx);
    if (!target) {
      throw input.modelVersionId
        ? notFound("Model version")
        : conflict("There is no earlier champion to roll back to");
    }
    if (target.status !== "ARCHIVED") {
      throw conflict(
        `Rollback goes to an earlier champion (ARCHIVED); ${target.name} ${target.version} is ${target.status}`,
      );
    }
    return fileProposal(tx, actor, target, "ROLLBACK", reason);
  });
}

/** The archived version that most recently served as champion. */
async function previousChampion(tx: Prisma.TransactionClient) {
  const events = await tx.auditEvent.findMany({
    // Either event names a version that served as champion: the one that became champion,
    // or the one archived when another took over.
    where: { action: { in: ["model.championChanged", "model.status"] }, entityType: "ModelVersion" },
    orderBy: { seq: "desc" },
    take: 50,
    select: { entityId: true },
  });
  for (const e of events) {
    const v = await tx.modelVersion.findUnique({ where: { id: e.entityId } });
    if (v?.status === "ARCHIVED") return v;
  }
  return null;
}
