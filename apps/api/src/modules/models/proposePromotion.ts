// Step one of the two-person rule: a DATA_SCIENTIST proposes that a model version become the
// champion; an ADMIN (someone else) decides (decidePromotion.ts).
import type { ModelPromotion, ModelVersion, Prisma, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { fileProposal } from "./fileProposal.ts";
import { testLeakage } from "../../jobs/model/testLeakage.ts";
import { cachedEvaluation } from "../../jobs/model/evaluateOnSnapshot.ts";

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
  // Outside the transaction (a scan of the training snapshots): what the admin is told about
  // figures on test patients either model learned from.
  const evidence = await leakageEvidence(prisma, input.modelVersionId);
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
    // The evidence was gathered before this transaction: against the champion of now, or not at all.
    if (evidence && evidence.championId !== champion?.id) throw conflict("The champion changed while this was proposed: propose again");
    return fileProposal(tx, actor, version, "PROMOTE", reason, evidence ?? undefined);
  });
}

/**
 * The shared snapshot where the candidate and the champion learned from the fewest of its TEST
 * patients, with both counts. Models trained before the split by patient (or fine-tuned from one)
 * may have: their figures there are optimistic. Recorded with the proposal, not a refusal: such a
 * lineage stays in every later snapshot (parts are sticky), and the admin decides knowing it.
 */
async function leakageEvidence(prisma: PrismaClient, candidateId: string) {
  const [version, champion] = await Promise.all([
    prisma.modelVersion.findUnique({ where: { id: candidateId } }),
    prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } }),
  ]);
  if (!version || !champion) return null;
  const rows = await Promise.all(
    sharedSnapshots(version, champion).map(async (snapshotId) => ({
      snapshotId,
      candidate: await testLeakage(prisma, version.id, snapshotId),
      champion: await testLeakage(prisma, champion.id, snapshotId),
    })),
  );
  if (!rows.length) return null;
  const best = rows.reduce((a, b) => (b.candidate.patients + b.champion.patients < a.candidate.patients + a.champion.patients ? b : a));
  // The figures as the proposer saw them, frozen with the proposal: the versions' stored
  // evaluations are a cache a later evaluation may overwrite.
  const figures = (m: ModelVersion) => {
    const e = cachedEvaluation(m, best.snapshotId);
    return { accuracy: e?.accuracy ?? null, macroF1: e?.macroF1 ?? null };
  };
  return {
    championId: champion.id,
    comparedOnSnapshotId: best.snapshotId,
    testLeakage: { candidate: { ...best.candidate }, champion: { ...best.champion } },
    figures: { candidate: figures(version), champion: figures(champion) },
  } satisfies Record<string, Prisma.InputJsonValue>;
}

/** Snapshots on whose locked TEST part both models were evaluated (metrics.evaluations). */
function sharedSnapshots(a: ModelVersion, b: ModelVersion): string[] {
  const snapshots = (m: ModelVersion) => Object.keys((m.metrics as { evaluations?: Record<string, unknown> } | null)?.evaluations ?? {});
  const ofB = new Set(snapshots(b));
  return snapshots(a).filter((id) => ofB.has(id));
}
