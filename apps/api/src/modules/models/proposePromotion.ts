// Step one of the two-person rule: a DATA_SCIENTIST proposes that a model version become the
// champion; an ADMIN (someone else) decides (decidePromotion.ts).
import type { ModelPromotion, ModelVersion, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { fileProposal } from "./fileProposal.ts";
import { testLeakage } from "../../jobs/model/testLeakage.ts";

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
    const shared = champion ? sharedSnapshots(version, champion) : [];
    if (champion && shared.length === 0) {
      throw conflict(
        `${version.name} ${version.version} has no test-set evaluation on the same snapshot as the champion ${champion.name} ${champion.version}: compare the two on a snapshot first, then propose`,
      );
    }
    // A figure on test patients the candidate learned from is optimistic: it must win on patients
    // it has never seen (models trained before the split by patient can have seen some).
    if (champion) {
      const leaks = await Promise.all(shared.map((s) => testLeakage(tx, version.id, s)));
      const clean = leaks.some((l) => l.patients === 0);
      if (!clean) {
        const fewest = leaks.reduce((a, b) => (b.patients < a.patients ? b : a));
        throw conflict(
          `${version.name} ${version.version} was trained on ${fewest.patients} patient(s) of every test set it shares with the champion (${fewest.cells} test cells): its figures there are optimistic. Compare the two on a snapshot whose test patients it has not seen, then propose`,
          { leakedPatients: fewest.patients },
        );
      }
    }
    return fileProposal(tx, actor, version, "PROMOTE", reason);
  });
}

/** Snapshots on whose locked TEST part both models were evaluated (metrics.evaluations). */
function sharedSnapshots(a: ModelVersion, b: ModelVersion): string[] {
  const snapshots = (m: ModelVersion) => Object.keys((m.metrics as { evaluations?: Record<string, unknown> } | null)?.evaluations ?? {});
  const ofB = new Set(snapshots(b));
  return snapshots(a).filter((id) => ofB.has(id));
}
