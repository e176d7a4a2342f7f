// A frozen training set from human decisions that a hematologist has signed: the latest
// review label of every cell in a SIGNED_OUT or AMENDED case. Cells whose final label is
// "unidentified" or "artifact" carry no class and are left out (so, for now, are "blast" cells:
// NON_CLASS_LABELS), and so are the cells of failed and
// voided images, and of cases whose report of record is a retraction ("no valid result": the
// smears may be another patient's; a snapshot taken before keeps them: snapshots are frozen).
// AI predictions are never
// labels. Cells are split by patient (datasetSplit.ts); a case without a patient study id is left
// out (counted), as it may be any patient's. Each item also freezes whether its label
// was a bulk confirmation of AI calls (bulkConfirmed: weaker evidence in a TEST part, bulkConfirmed.ts).
// The snapshot's rows are append-only in the database (dataset_item trigger).
import { Prisma, type DatasetSnapshot, type DatasetSplit, type PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { badInput } from "../../errors.ts";
import { ARTIFACT, UNIDENTIFIED } from "../../jobs/model/runtime.ts";
import { BLAST } from "../cases/whiteCellDifferential.ts";
import { RETRACTED_CASE_SQL } from "./staleItems.ts";
import { assignSplits, crossPartDuplicates, PIXEL_KEY_SQL, snapshotContentHash, SPLIT_GROUP_SQL, type SnapshotRow } from "./datasetSplit.ts";

/**
 * Final labels that teach no model class. Blast is a class, but one only humans give, to a handful
 * of cells from a few patients: split by patient, those often all land in VAL or TEST, and a class
 * with no TRAIN cells is refused (startTrainingRun), so one relapse case would block every training
 * run (and a model given a few blasts could not learn them anyway). Left out until there are
 * enough to train a blast class on purpose.
 */
export const NON_CLASS_LABELS: readonly string[] = [UNIDENTIFIED, ARTIFACT, BLAST];

const MAX_NAME = 120;
const INSERT_CHUNK = 5_000;

export interface CreateDatasetSnapshotInput {
  name: string;
}

/** A snapshot as the API answers it: `reused` when createDatasetSnapshot returned the newest one instead of taking a copy. */
export type SnapshotAnswer = DatasetSnapshot & { reused?: boolean };

export async function createDatasetSnapshot(
  prisma: PrismaClient,
  actor: AuthUser,
  input: CreateDatasetSnapshotInput,
): Promise<SnapshotAnswer> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME) {
    throw badInput(`Snapshot name must have 1 to ${MAX_NAME} characters`, { field: "name" });
  }

  return prisma.$transaction(
    async (tx) => {
      // One snapshot at a time: a new patient's part is chosen from the parts already given,
      // and two snapshots placing the same patient concurrently could disagree.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(72430031)`;
      // With each label, whether the review that decided it (the cell's latest) was a bulk
      // confirmation of AI calls: its bulkSize, or for a confirmation recorded before that column
      // (2026-11-28; review rows are append-only, never backfilled) its audit event's `bulk`.
      // A later reclassification or a confirmation alone is a decision made cell by cell.
      const latest = await tx.$queryRaw<
        { cellId: string; label: string; cropSha256: string; pixelKey: string | null; group: string; caseId: string; bulkConfirmed: boolean }[]
      >`
        SELECT l."cellId", l."label", l."cropSha256", l."pixelKey", l."group", l."caseId",
          (l."bulkSize" IS NOT NULL OR (l."action" = 'CONFIRM' AND EXISTS (
            SELECT 1 FROM "audit_event" ae
            WHERE ae."entityType" = 'Cell' AND ae."entityId" = l."cellId"::text AND ae."action" = 'cell.confirm'
              AND ae."after"->>'reviewCount' = l."seq"::text AND ae."after"->>'bulk' IS NOT NULL))) AS "bulkConfirmed"
        FROM (
          SELECT DISTINCT ON (r."cellId") r."cellId", r."label", r."seq", r."action", r."bulkSize", c."cropSha256",
            ${PIXEL_KEY_SQL} AS "pixelKey", ${SPLIT_GROUP_SQL} AS "group", k."id"::text AS "caseId"
          FROM "review" r
          JOIN "cell" c ON c."id" = r."cellId"
          JOIN "slide" s ON s."id" = c."slideId"
          JOIN "case" k ON k."id" = s."caseId"
          WHERE k."status" IN ('SIGNED_OUT', 'AMENDED') AND s."analysisStatus" <> 'FAILED'
            -- A voided image (the wrong patient's, a blurred field) teaches nothing true.
            AND s."voidedAt" IS NULL
            AND NOT ${RETRACTED_CASE_SQL}
          ORDER BY r."cellId", r."seq" DESC
        ) l`;
      const labelled = latest.filter((r) => !NON_CLASS_LABELS.includes(r.label));
      if (labelled.length === 0) {
        throw badInput("No signed-out human labels to snapshot yet: sign out reviewed cases first");
      }
      // Earlier parts of every cell of these patients, in one pass: per cell, and per patient
      // (also cells not in this snapshot: a case being amended, a cell relabelled "artifact").
      const cellHistory = new Map<string, DatasetSplit[]>();
      const groupHistory = new Map<string, DatasetSplit[]>();
      // Appends in place: copying the list on every row made a long patient history quadratic.
      const push = (map: Map<string, DatasetSplit[]>, key: string, split: DatasetSplit) => {
        const list = map.get(key);
        if (list) list.push(split);
        else map.set(key, [split]);
      };
      for (const e of await tx.$queryRaw<{ cellId: string; group: string; split: DatasetSplit }[]>`
        SELECT DISTINCT g."cellId", g."group", g."split" FROM (
          SELECT i."cellId", ${SPLIT_GROUP_SQL} AS "group", i."split"
          FROM "dataset_item" i
          JOIN "cell" c ON c."id" = i."cellId"
          JOIN "slide" s ON s."id" = c."slideId"
          JOIN "case" k ON k."id" = s."caseId"
        ) g
        WHERE g."group" = ANY(${[...new Set(labelled.map((r) => r.group))]}::text[])`) {
        push(cellHistory, e.cellId, e.split);
        push(groupHistory, e.group, e.split);
      }
      const { parts, heldOut, withoutPatient } = assignSplits(
        labelled.map((r) => ({ cellId: r.cellId, group: r.group, earlier: cellHistory.get(r.cellId) ?? [] })),
        groupHistory,
      );
      // Cases without a patient study id: left out (isPatientless), counted so the data scientist
      // knows what entering the ids would add.
      const patientless = new Set(withoutPatient);
      const leftOut = labelled.filter((r) => patientless.has(r.cellId));
      if (leftOut.length === labelled.length) {
        throw badInput(
          "Every signed-out label is in a case without a patient study id: such a case may be any patient's, so it cannot be kept apart from that patient's other cases and is left out of snapshots. Enter the cases' patient study ids, then take a snapshot",
        );
      }
      const kept = labelled.filter((r) => parts.has(r.cellId));
      if (kept.length === 0) {
        throw badInput("Every signed-out label is held out: each cell sat in a less protected part than its patient's in an earlier snapshot");
      }
      const placed: (SnapshotRow & { cropSha256: string; pixelKey: string | null; bulkConfirmed: boolean })[] = kept.map((r) => ({
        cellId: r.cellId,
        label: r.label,
        cropSha256: r.cropSha256,
        pixelKey: r.pixelKey,
        split: parts.get(r.cellId)!,
        bulkConfirmed: r.bulkConfirmed,
      }));
      // Earlier items showing the same image: the same crop bytes, or the same pixels under other
      // bytes (the same crop uploaded as PNG at another compression level to another patient's case).
      const pixelKeys = [...new Set(placed.flatMap((r) => (r.pixelKey ? [r.pixelKey] : [])))];
      const earlier = await tx.$queryRaw<{ cellId: string; cropSha256: string; pixelKey: string | null; split: DatasetSplit }[]>`
        SELECT DISTINCT i."cellId"::text AS "cellId", i."cropSha256", ${PIXEL_KEY_SQL} AS "pixelKey", i."split"
        FROM "dataset_item" i
        JOIN "cell" c ON c."id" = i."cellId"
        JOIN "slide" s ON s."id" = c."slideId"
        WHERE i."cropSha256" = ANY(${[...new Set(placed.map((r) => r.cropSha256))]}::text[])
          OR (s."pixelSha256" IS NOT NULL AND ${PIXEL_KEY_SQL} = ANY(${pixelKeys}::text[]))`;
      const duplicates = crossPartDuplicates(placed, earlier);
      const rows = placed.filter((r) => !duplicates.has(r.cellId));
      if (rows.length === 0) throw badInput("Every signed-out label is held out: each cell's image is also another cell's on the other side of the TEST line");
      const patients = { TRAIN: new Set<string>(), VAL: new Set<string>(), TEST: new Set<string>() };
      for (const r of kept) if (!duplicates.has(r.cellId)) patients[parts.get(r.cellId)!].add(r.group);
      const splitSummary = {
        patients: { train: patients.TRAIN.size, val: patients.VAL.size, test: patients.TEST.size },
        heldOutCells: heldOut.length + duplicates.size,
        // In the snapshot (TRAIN, the rule until 2026-11-28): none since.
        casesWithoutPatient: 0,
        casesLeftOutWithoutPatient: new Set(leftOut.map((r) => r.caseId)).size,
        cellsLeftOutWithoutPatient: leftOut.length,
      };
      const labels = [...new Set(rows.map((r) => r.label))].sort();
      const contentHash = snapshotContentHash(rows);
      // Nothing signed or relabelled since the newest snapshot: the same items again would be a
      // copy under another name, and runs on either would look like runs on different data. It is
      // answered instead, marked reused; nothing is written, so nothing is audited.
      const newest = await tx.datasetSnapshot.findFirst({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      if (newest?.contentHash === contentHash) return { ...newest, reused: true };

      const snapshot = await tx.datasetSnapshot.create({
        data: { name, labels, itemCount: rows.length, contentHash, splitSummary, createdById: actor.id },
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx.datasetItem.createMany({
          data: rows.slice(i, i + INSERT_CHUNK).map(({ pixelKey: _key, ...r }) => ({ snapshotId: snapshot.id, ...r })),
        });
      }
      const counts = { TRAIN: 0, VAL: 0, TEST: 0 };
      for (const r of rows) counts[r.split]++;
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
          ...splitSummary,
        },
      });
      return snapshot;
    },
    { timeout: 60_000 },
  );
}
