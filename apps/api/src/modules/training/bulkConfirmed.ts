// How many of a snapshot's TEST labels are bulk confirmations of AI calls (dataset_item.bulkConfirmed,
// frozen by createDatasetSnapshot): a label confirmed with a whole gallery group of confident AI
// calls is weaker evidence than one decided cell by cell, and it favours the model that made the
// call (the champion of the time) when models are compared on it. Shown beside the TEST cell count
// wherever a TEST part is weighed (compareModels, promotion evidence); accuracy is computed as ever.
import type { PrismaClient } from "@rcmnet/db";

/**
 * The TEST items of the snapshot whose frozen label was a bulk confirmation; null where any TEST
 * item does not record it (a snapshot taken before this was recorded, 2026-11-28): not recorded,
 * never guessed. A snapshot's items never change (append-only), so neither does this count.
 */
export async function bulkConfirmedTestCells(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string): Promise<number | null> {
  const [row] = await prisma.$queryRaw<{ bulk: number; unrecorded: number }[]>`
    SELECT count(*) FILTER (WHERE "bulkConfirmed")::int AS "bulk", count(*) FILTER (WHERE "bulkConfirmed" IS NULL)::int AS "unrecorded"
    FROM "dataset_item" WHERE "snapshotId" = ${snapshotId}::uuid AND "split" = 'TEST'`;
  return !row || row.unrecorded > 0 ? null : row.bulk;
}
