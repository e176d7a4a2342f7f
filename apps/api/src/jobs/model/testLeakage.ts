// Whether a model has seen any patient of a snapshot's locked TEST part. Parts are sticky by
// patient from rule v2 on (datasetSplit.ts), but a model trained on an earlier snapshot, split per
// cell (rule v1), or on a case later linked to another patient, may have learned from patients
// that now sit in TEST: its test figure would then be optimistic, and a comparison with it unfair.
import type { PrismaClient } from "@rcmnet/db";
import { SPLIT_GROUP_SQL } from "../../modules/training/datasetSplit.ts";

export interface TestLeakage {
  /** Patients (or cases without a patient reference) of the TEST part the model trained on, as far as this database knows. */
  patients: number;
  /** TEST cells of those patients. */
  cells: number;
  /**
   * False where the model, or a base model up its chain, was not trained here (registered from a
   * directory): what it learned from is unknown, so the counts above are only what can be seen,
   * and 0 does not mean it never saw these patients.
   */
  trainingDataKnown: boolean;
}

/**
 * What the model learned from: the TRAIN and VAL parts (VAL chose its epoch and temperature) of the
 * snapshot of the run that produced it, and of its base model's run, up the transfer-learning
 * chain. A model registered from outside the platform has no known training data here.
 */
export async function testLeakage(prisma: Pick<PrismaClient, "$queryRaw">, modelVersionId: string, snapshotId: string): Promise<TestLeakage> {
  const [run] = await prisma.$queryRaw<{ snapshotId: string; baseModelVersionId: string | null }[]>`
    SELECT r."snapshotId", r."baseModelVersionId" FROM model_version m JOIN training_run r ON r.id = m."trainingRunId"
    WHERE m.id = ${modelVersionId}::uuid`;
  return run ? runTestLeakage(prisma, run, snapshotId) : { patients: 0, cells: 0, trainingDataKnown: false };
}

/**
 * The same for a training run's model before it is registered: the run's own snapshot counts too.
 * Its TRAIN and VAL hold no TEST patient of that same snapshot only when it was split by patient
 * (rule v2 on) and no case has been linked to another patient since; a snapshot of rule v1, still
 * trainable, split per cell, so its own test figure can be on patients the model learned from.
 */
export async function runTestLeakage(
  prisma: Pick<PrismaClient, "$queryRaw">,
  run: { snapshotId: string; baseModelVersionId: string | null },
  snapshotId: string,
): Promise<TestLeakage> {
  const [row] = await prisma.$queryRaw<{ patients: bigint; cells: bigint; known: boolean }[]>`
    WITH RECURSIVE lineage AS (
      SELECT ${run.snapshotId}::uuid AS "snapshotId", ${run.baseModelVersionId}::uuid AS "baseModelVersionId", 1 AS depth
      UNION ALL
      SELECT r."snapshotId", r."baseModelVersionId", l.depth + 1
      FROM lineage l
      JOIN model_version m ON m.id = l."baseModelVersionId"
      JOIN training_run r ON r.id = m."trainingRunId"
      WHERE l.depth < 50
    ),
    learned AS (
      SELECT DISTINCT ${SPLIT_GROUP_SQL} AS "group"
      FROM dataset_item i
      JOIN cell c ON c.id = i."cellId" JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
      WHERE i."snapshotId" IN (SELECT "snapshotId" FROM lineage) AND i.split IN ('TRAIN', 'VAL')
    ),
    tested AS (
      SELECT ${SPLIT_GROUP_SQL} AS "group"
      FROM dataset_item i
      JOIN cell c ON c.id = i."cellId" JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId"
      WHERE i."snapshotId" = ${snapshotId}::uuid AND i.split = 'TEST'
    )
    SELECT count(DISTINCT t."group") AS patients, count(*) AS cells,
      -- The chain is known to its end where every base model named has the next row: one with
      -- no run here (registered from a directory), missing, or past the depth cap has none.
      NOT EXISTS (
        SELECT 1 FROM lineage l
        WHERE l."baseModelVersionId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lineage n WHERE n.depth = l.depth + 1)
      ) AS known
    FROM tested t WHERE t."group" IN (SELECT "group" FROM learned)`;
  return { patients: Number(row?.patients ?? 0), cells: Number(row?.cells ?? 0), trainingDataKnown: row?.known === true };
}
