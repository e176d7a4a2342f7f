// Step one of the two-person rule: a DATA_SCIENTIST proposes that a model version become the
// champion; an ADMIN (someone else) decides (decidePromotion.ts).
import type { ModelPromotion, ModelVersion, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { fileProposal } from "./fileProposal.ts";

export const MAX_REASON = 2000;

export function requireReason(reason: string, field = "reason"): string {
  const text = reason.trim();
  if (text.length === 0) throw badInput(`A ${field} is required`, { field });
  if (text.length > MAX_REASON)
    throw badInput(`The ${field} must have at most ${MAX_REASON} characters`, { field });
  return text;
}

export async function proposePromotion(
  prisma: PrismaClient,
  actor: AuthUser,
  input: { modelVersionId: string; reason: string },
): Promise<ModelPromotion> {
  const reason = requireReason(input.reason);
  if (!isUuid(input.modelVersionId)) throw notFound("Model version");
  return prisma.$transaction(async (tx) => {
    const version = await tx.modelVersion.findUnique({ where: { id: input.modelVersionId } });
    if (!version) throw notFound("Model version");
    if (version.status === "CHAMPION")
      throw conflict(`${version.name} ${version.version} is already the champion`);
    if (version.status !== "CANDIDATE") {
      throw conflict(
        `${version.name} ${version.version} is ${version.status}; an earlier champion comes back by proposeRollback`,
      );
    }
    // The admin deciding weighs the two on the same test cells: no such figures, no proposal.
    const champion = await tx.modelVersion.findFirst({ where: { status: "CHAMPION" } });
    if (champion && !evaluatedTogether(version, champion)) {
      throw conflict(
        `${version.name} ${version.version} has no test-set evaluation on the same snapshot as the champion ${champion.name} ${champion.version}: compare the two on a snapshot first, then propose`,
      );
    }
    return fileProposal(tx, actor, version, "PROMOTE", reason);
  });
}

/** Whether both models were evaluated on one snapshot's locked TEST part (metrics.evaluations). */
function evaluatedTogether(a: ModelVersion, b: ModelVersion): boolean {
  const snapshots = (m: ModelVersion) => Object.keys((m.metrics as { evaluations?: Record<string, unknown> } | null)?.evaluations ?? {});
  const ofB = new Set(snapshots(b));
  return snapshots(a).some((id) => ofB.has(id));
}
