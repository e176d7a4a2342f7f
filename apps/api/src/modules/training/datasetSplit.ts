// The split of a cell into TRAIN / VAL / TEST depends on its id only, so it is the same in
// every snapshot: a cell that was ever in the locked TEST part is in it again next time, and a
// model can never be trained on a cell another model was tested on.
import { createHash } from "node:crypto";
import type { DatasetSplit } from "@rcmnet/db";

/** Versioned salt: changing the fractions or salt would move cells between parts. */
const SPLIT_SALT = "rcmnet-split-v1:";
export const SPLIT_FRACTIONS = { TRAIN: 0.7, VAL: 0.15, TEST: 0.15 } as const;

export function splitOf(cellId: string): DatasetSplit {
  const digest = createHash("sha256")
    .update(SPLIT_SALT + cellId)
    .digest();
  const u = digest.readUInt32BE(0) / 2 ** 32;
  if (u < SPLIT_FRACTIONS.TRAIN) return "TRAIN";
  if (u < SPLIT_FRACTIONS.TRAIN + SPLIT_FRACTIONS.VAL) return "VAL";
  return "TEST";
}

export interface SnapshotRow {
  cellId: string;
  label: string;
  split: DatasetSplit;
}

/** sha256 over the sorted (cellId, label, split) rows: equal content, equal hash. */
export function snapshotContentHash(rows: SnapshotRow[]): string {
  const hash = createHash("sha256");
  for (const r of [...rows].sort((a, b) => (a.cellId < b.cellId ? -1 : a.cellId > b.cellId ? 1 : 0))) {
    hash.update(`${r.cellId}\t${r.label}\t${r.split}\n`);
  }
  return hash.digest("hex");
}
