// Items of a snapshot whose label the platform no longer holds: an amendment corrected the cell
// (or is correcting it now), voided its image (a wrong patient's smear, whose labels must not be
// learned from or scored against), or retracted its case's report (no valid result). A snapshot is
// never rewritten; its labels can only go stale. One rule for training on a snapshot
// (startTrainingRun's relabelledSince, read again by the trainModel worker when it starts and
// before it registers the model) and for a promotion's figures on its TEST part
// (relabelledTestCells): two copies had drifted apart.
import { Prisma, type PrismaClient } from "@rcmnet/db";
import { RETRACTION_MEANING } from "../signoff/meanings.ts";

/**
 * SQL, over a joined "case" k: its report of record (the signed version it is at) is a
 * retraction. Such a case gives no result, and its cells' labels teach nothing true either: the
 * retraction is how a report on another patient's smears is withdrawn when they were not voided.
 * A later amendment that signs a result makes them count again.
 */
export const RETRACTED_CASE_SQL = Prisma.sql`EXISTS (SELECT 1 FROM "sign_off" so WHERE so."caseId" = k."id" AND so."version" = k."reportVersion" AND so."meaning" = ${RETRACTION_MEANING})`;

export async function staleItemCount(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string, onlyTest = false): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "dataset_item" di JOIN "cell" c ON c."id" = di."cellId" JOIN "slide" s ON s."id" = c."slideId"
    JOIN "case" k ON k."id" = s."caseId"
    WHERE di."snapshotId" = ${snapshotId}::uuid ${onlyTest ? Prisma.sql`AND di."split" = 'TEST'` : Prisma.empty}
      AND (c."currentLabel" IS DISTINCT FROM di."label" OR s."voidedAt" IS NOT NULL OR ${RETRACTED_CASE_SQL})`;
  return row?.n ?? 0;
}
