// A frozen training set from human decisions that a hematologist has signed: the latest
// review label of every cell in a SIGNED_OUT or AMENDED case. Cells whose final label is
// "unidentified" or "artifact" carry no class and are left out. AI predictions are never
// labels. Cells are split by patient (datasetSplit.ts). The snapshot's rows are append-only in the database (dataset_item trigger).
import type { DatasetSnapshot, DatasetSplit, PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { badInput } from "../../errors.ts";
import { ARTIFACT, UNIDENTIFIED } from "../../jobs/model/runtime.ts";
import { assignSplits, snapshotContentHash, SPLIT_GROUP_SQL, type SnapshotRow } from "./datasetSplit.ts";

export const NON_CLASS_LABELS: readonly string[] = [UNIDENTIFIED, ARTIFACT];
const MAX_NAME = 120;
const INSERT_CHUNK = 5_000;

export interface CreateDatasetSnapshotInput {
  name: string;
}

export async function createDatasetSnapshot(
  prisma: PrismaClient,
  actor: AuthUser,
  input: CreateDatasetSnapshotInput,
): Promise<DatasetSnapshot> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME) {
    throw badInput(`Snapshot name must have 1 to ${MAX_NAME} characters`, { field: "name" });
  }

  return prisma.$transaction(
    async (tx) => {
      // One snapshot at a time: a new patient's part is chosen from the parts already given,
      // and two snapshots placing the same patient concurrently could disagree.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('rcmnet:dataset-snapshot'))`;
      const latest = await tx.$queryRaw<{ cellId: string; label: string; cropSha256: string; group: string }[]>`
        SELECT DISTINCT ON (r."cellId") r."cellId", r."label", c."cropSha256", ${SPLIT_GROUP_SQL} AS "group"
        FROM "review" r
        JOIN "cell" c ON c."id" = r."cellId"
        JOIN "slide" s ON s."id" = c."slideId"
        JOIN "case" k ON k."id" = s."caseId"
        WHERE k."status" IN ('SIGNED_OUT', 'AMENDED')
        ORDER BY r."cellId", r."seq" DESC`;
      const labelled = latest.filter((r) => !NON_CLASS_LABELS.includes(r.label));
      if (labelled.length === 0) {
        throw badInput("No signed-out human labels to snapshot yet: sign out reviewed cases first");
      }
      const earlier = new Map<string, DatasetSplit[]>();
      for (const e of await tx.datasetItem.findMany({
        where: { cellId: { in: labelled.map((r) => r.cellId) } },
        distinct: ["cellId", "split"],
        select: { cellId: true, split: true },
      })) {
        earlier.set(e.cellId, [...(earlier.get(e.cellId) ?? []), e.split]);
      }
      const parts = assignSplits(labelled.map((r) => ({ cellId: r.cellId, group: r.group, earlier: earlier.get(r.cellId) ?? [] })));
      const rows: (SnapshotRow & { cropSha256: string })[] = labelled.map((r) => ({
        cellId: r.cellId,
        label: r.label,
        cropSha256: r.cropSha256,
        split: parts.get(r.cellId)!,
      }));
      const labels = [...new Set(rows.map((r) => r.label))].sort();
      const contentHash = snapshotContentHash(rows);

      const snapshot = await tx.datasetSnapshot.create({
        data: { name, labels, itemCount: rows.length, contentHash, createdById: actor.id },
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx.datasetItem.createMany({
          data: rows.slice(i, i + INSERT_CHUNK).map((r) => ({ snapshotId: snapshot.id, ...r })),
        });
      }
      const counts = { TRAIN: 0, VAL: 0, TEST: 0 };
      const patients = { TRAIN: new Set<string>(), VAL: new Set<string>(), TEST: new Set<string>() };
      for (const [i, r] of rows.entries()) {
        counts[r.split]++;
        patients[r.split].add(labelled[i]!.group);
      }
      await recordAudit(tx, actor, {
        action: "datasetSnapshot.create",
        entityType: "DatasetSnapshot",
        entityId: snapshot.id,
        after: {
          name,
          labels,
          itemCount: rows.length,
          contentHash,
          splits: counts,
          patients: { TRAIN: patients.TRAIN.size, VAL: patients.VAL.size, TEST: patients.TEST.size },
        },
      });
      return snapshot;
    },
    { timeout: 60_000 },
  );
}
