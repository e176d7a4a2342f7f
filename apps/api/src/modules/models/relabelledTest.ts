// TEST cells of a snapshot whose label an amendment has changed since it was frozen, or whose
// image an amendment voided (another patient's smear). Figures on
// such a TEST part score both models against labels the platform no longer holds: a comparison
// reports the count, a promotion is refused on it (startTrainingRun.ts refuses to train the same way).
import type { PrismaClient } from "@rcmnet/db";

export async function relabelledTestCells(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "dataset_item" di JOIN "cell" c ON c."id" = di."cellId" JOIN "slide" s ON s."id" = c."slideId"
    WHERE di."snapshotId" = ${snapshotId}::uuid AND di."split" = 'TEST' AND (c."currentLabel" IS DISTINCT FROM di."label" OR s."voidedAt" IS NOT NULL)`;
  return row?.n ?? 0;
}
