// TEST cells of a snapshot whose label the platform no longer holds (relabelled by an amendment,
// their image voided, their case's report retracted: staleItems.ts). Figures on such a TEST part
// score both models against labels since withdrawn: a comparison reports the count, a promotion
// is refused on it (startTrainingRun.ts refuses to train the same way).
import type { PrismaClient } from "@rcmnet/db";
import { staleItemCount } from "../training/staleItems.ts";

export function relabelledTestCells(prisma: Pick<PrismaClient, "$queryRaw">, snapshotId: string): Promise<number> {
  return staleItemCount(prisma, snapshotId, true);
}
