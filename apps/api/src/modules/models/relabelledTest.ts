// TEST cells of a snapshot whose label an amendment has changed since it was frozen. Figures on
// such a TEST part score both models against labels the platform no longer holds: a comparison
// reports the count, a promotion is refused on it (startTrainingRun.ts refuses to train the same way).
import type { PrismaClient } from "@rcmnet/db";

export async function relabelledTestCells(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "dataset_item" di JOIN "cell" c ON c."id" = di."cellId"
    WHERE di."snapshotId" = ${snapshotId}::uuid AND di."split" = 'TEST' AND c."currentLabel" IS DISTINCT FROM di."label"`;
  return row?.n ?? 0;
}
