// Items of a snapshot whose label the platform no longer holds: an amendment corrected the cell
// (or is correcting it now), voided its image (a wrong patient's smear, whose labels must not be
// learned from or scored against), or retracted its case's report (no valid result). A snapshot is
// never rewritten; its labels can only go stale. One rule for training on a snapshot
// (startTrainingRun's relabelledSince) and for a promotion's figures on its TEST part
// (relabelledTestCells): two copies had drifted apart.
import { Prisma, type PrismaClient } from "@rcmnet/db";
import { RETRACTED_CASE_SQL } from "./createDatasetSnapshot.ts";

export async function staleItemCount(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string, onlyTest = false): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "dataset_item" di JOIN "cell" c ON c."id" = di."cellId" JOIN "slide" s ON s."id" = c."slideId"
    JOIN "case" k ON k."id" = s."caseId"
    WHERE di."snapshotId" = ${snapshotId}::uuid ${onlyTest ? Prisma.sql`AND di."split" = 'TEST'` : Prisma.empty}
      AND (c."currentLabel" IS DISTINCT FROM di."label" OR s."voidedAt" IS NOT NULL OR ${RETRACTED_CASE_SQL})`;
  return row?.n ?? 0;
}

/**
 * How every refusal and count of such items says what they are: "relabelled" alone sent readers
 * looking for an amendment's new label when the cause was a void or a retraction.
 */
export function noLongerHeld(n: number): string {
  return n === 1
    ? "no longer holds the label it was frozen with (relabelled by an amendment, its image voided, or its case's report retracted)"
    : "no longer hold the label they were frozen with (relabelled by an amendment, their image voided, or their case's report retracted)";
}
