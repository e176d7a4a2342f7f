// What an admin deciding a proposal weighs beside its reason: both models' figures on the TEST
// part they were compared on, and how many of its patients each learned from. Recorded with the
// proposal's audit event (the snapshot and the leakage at that time); the figures are read from
// the versions' stored evaluations of that snapshot.
import type { ModelPromotion, ModelVersion, PrismaClient } from "@rcmnet/db";

interface Recorded {
  comparedOnSnapshotId?: string;
  lostClasses?: string[];
  testLeakage?: { candidate?: Leak; champion?: Leak };
}
interface Leak {
  patients?: number;
  cells?: number;
}

/** What the proposal's audit event recorded beside the proposal itself. */
async function recorded(prisma: PrismaClient, promotion: ModelPromotion): Promise<Recorded> {
  const event = await prisma.auditEvent.findFirst({
    where: { entityType: "ModelPromotion", entityId: promotion.id, action: { in: ["model.proposePromotion", "model.proposeRollback"] } },
    select: { after: true },
  });
  return (event?.after ?? {}) as Recorded;
}

/** Classes of the replaced champion the proposed version cannot suggest (a rollback only). */
export async function lostClasses(prisma: PrismaClient, promotion: ModelPromotion): Promise<string[]> {
  return (await recorded(prisma, promotion)).lostClasses ?? [];
}

export async function promotionEvidence(prisma: PrismaClient, promotion: ModelPromotion) {
  const proposal = await recorded(prisma, promotion);
  const snapshotId = proposal.comparedOnSnapshotId;
  if (!snapshotId) return null;
  const [candidate, champion] = await Promise.all([
    prisma.modelVersion.findUniqueOrThrow({ where: { id: promotion.modelVersionId } }),
    promotion.replacesChampionId ? prisma.modelVersion.findUnique({ where: { id: promotion.replacesChampionId } }) : null,
  ]);
  return {
    snapshotId,
    candidate: figures(candidate, snapshotId, proposal.testLeakage?.candidate),
    champion: champion ? figures(champion, snapshotId, proposal.testLeakage?.champion) : null,
  };
}

function figures(version: ModelVersion, snapshotId: string, leak: Leak | undefined) {
  const evaluation = (version.metrics as { evaluations?: Record<string, { accuracy?: number; macroF1?: number }> } | null)?.evaluations?.[snapshotId];
  return {
    modelVersion: version,
    accuracy: evaluation?.accuracy ?? null,
    macroF1: evaluation?.macroF1 ?? null,
    leakedPatients: leak?.patients ?? null,
    leakedCells: leak?.cells ?? null,
  };
}
