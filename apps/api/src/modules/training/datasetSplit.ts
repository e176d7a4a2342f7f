// Which part (TRAIN / VAL / TEST) each cell of a snapshot goes to. Cells are split by patient
// (the case's patientRef; a case without one is left out): all cells of one patient share a part, so the locked
// TEST figure measures patients the model has never seen, not new cells of known ones.
//
// Parts are sticky across snapshots. A patient's part is the most protected part (TEST, then
// VAL, then TRAIN) that any of its cells had in any earlier snapshot, and its new cells join
// it. A cell that sat in a less protected part before (split per cell by rule v1, before
// 2026-11-26, or a case later linked to another patient) is held out: it can neither move to a
// more protected part (a model trained on it) nor stay beside its patient's TEST cells.
// Patients never snapshotted before are placed anew: each goes to the part with the fewest cells
// for its share, so the first three patients go to TRAIN, TEST and VAL and the parts then fill
// towards 70 / 15 / 15 (a hash per patient would often leave TEST or VAL empty for dozens of
// cases). A case without a patient reference goes to no part (see isPatientless).
import { createHash } from "node:crypto";
import { Prisma, type DatasetSplit } from "@rcmnet/db";

export const SPLIT_FRACTIONS = { TRAIN: 0.7, VAL: 0.15, TEST: 0.15 } as const;
/** Most protected first: a patient seen in several parts belongs to the first of these. */
const PROTECTION: readonly DatasetSplit[] = ["TEST", "VAL", "TRAIN"];
/** Which part an equally loaded tie goes to: training data first, then a test set, then VAL. */
const FILL_ORDER: readonly DatasetSplit[] = ["TRAIN", "TEST", "VAL"];
/** Versioned salt of the order new patients are placed in. */
const ORDER_SALT = "rcmnet-split-v2:";

/**
 * SQL for a cell's split group over a joined "case" k: the patient (trimmed, case-folded; an
 * empty reference counts as none), else the case (which snapshots leave out since 2026-11-28,
 * isPatientless; earlier snapshots may hold such groups).
 */
export const SPLIT_GROUP_SQL = Prisma.sql`COALESCE('patient:' || upper(NULLIF(btrim(k."patientRef"), '')), 'case:' || k."id"::text)`;

/**
 * SQL for a cell's pixel key over a joined "slide" s and "cell" c (CropItem.pixelKey): the slide's
 * pixel hash and the cell's box; null where the slide's pixels were not hashed.
 */
export const PIXEL_KEY_SQL = Prisma.sql`CASE WHEN s."pixelSha256" IS NOT NULL THEN s."pixelSha256" || '@' || c."x" || ',' || c."y" || ',' || c."width" || 'x' || c."height" END`;

export interface SplitCandidate {
  cellId: string;
  /** SPLIT_GROUP_SQL of the cell's case. */
  group: string;
  /** Parts the cell had in earlier snapshots (empty: never snapshotted). */
  earlier: readonly DatasetSplit[];
}

export interface SplitAssignment {
  parts: Map<string, DatasetSplit>;
  /** Cells left out: they sat in a less protected part than their patient's. */
  heldOut: string[];
  /** Cells left out because their case has no patient reference (isPatientless). */
  withoutPatient: string[];
}

/**
 * A case without a patient reference may be the same patient as any other case (a CAR-T patient's
 * day +7, +14 and +28 smears, one entered without the study id): in no part can it be kept apart
 * from that patient's other cases. In VAL or TEST it could sit beside the patient's TRAIN cells;
 * in TRAIN (the rule until 2026-11-28) the patient's other case could be placed in TEST, and the
 * leakage check, which compares the same groups, sees neither. So such a case is left out of
 * snapshots altogether (counted: casesWithoutPatient), until its study id is entered.
 */
export const isPatientless = (group: string) => group.startsWith("case:");

function mostProtected(parts: Iterable<DatasetSplit>): DatasetSplit | null {
  const set = new Set(parts);
  return PROTECTION.find((p) => set.has(p)) ?? null;
}

/**
 * The part of every candidate cell (see the file comment for the rules). `groupHistory`: the
 * parts every group's cells had in earlier snapshots, including cells not among the
 * candidates (a case being amended, a cell relabelled "artifact").
 */
export function assignSplits(
  cells: readonly SplitCandidate[],
  groupHistory: ReadonlyMap<string, readonly DatasetSplit[]> = new Map(),
): SplitAssignment {
  const parts = new Map<string, DatasetSplit>();
  const heldOut: string[] = [];
  const withoutPatient: string[] = [];
  const groups = new Map<string, SplitCandidate[]>();
  for (const c of cells) {
    if (isPatientless(c.group)) {
      withoutPatient.push(c.cellId);
      continue;
    }
    const list = groups.get(c.group);
    if (list) list.push(c);
    else groups.set(c.group, [c]);
  }
  const counts: Record<DatasetSplit, number> = { TRAIN: 0, VAL: 0, TEST: 0 };
  const place = (cellId: string, part: DatasetSplit) => {
    parts.set(cellId, part);
    counts[part]++;
  };

  const fresh: [string, SplitCandidate[]][] = [];
  for (const [group, members] of groups) {
    const groupPart = mostProtected([...(groupHistory.get(group) ?? []), ...members.flatMap((m) => m.earlier)]);
    if (groupPart === null) {
      fresh.push([group, members]);
      continue;
    }
    for (const m of members) {
      const own = mostProtected(m.earlier);
      if (own === null || own === groupPart) place(m.cellId, groupPart);
      else heldOut.push(m.cellId);
    }
  }

  const orderKey = (group: string) => createHash("sha256").update(ORDER_SALT + group).digest("hex");
  fresh.sort(([a], [b]) => (orderKey(a) < orderKey(b) ? -1 : 1));
  for (const [, members] of fresh) {
    // The part with the fewest cells for its share (an empty part first); ties in FILL_ORDER.
    const load = (p: DatasetSplit) => counts[p] / SPLIT_FRACTIONS[p];
    const part = FILL_ORDER.reduce((best, p) => (load(p) < load(best) ? p : best));
    for (const m of members) place(m.cellId, part);
  }
  return { parts, heldOut, withoutPatient };
}

export interface SnapshotRow {
  cellId: string;
  label: string;
  split: DatasetSplit;
}

/**
 * A frozen or candidate item as the duplicate rule sees it. `pixelKey`: the slide's pixelSha256
 * (its pixels as the model sees them) with the cell's box, null where the slide's pixels were not
 * hashed (stored before 2026-11-28). The same image stored under other bytes (another PNG
 * compression level, an sRGB chunk, an alpha channel) has another cropSha256 where the crop is the
 * stored upload itself (a CROP slide), but the same pixelKey; a crop cut from a field is encoded by
 * our own code from the decoded pixels, so its cropSha256 already follows the pixels, and the
 * pixelKey (the same field's pixels, the same box) catches it even if the encoder's bytes change.
 */
export type CropItem = { cellId: string; cropSha256: string; pixelKey?: string | null; split: DatasetSplit };

/** The keys an item is the same image as another by: its crop bytes, and its pixels where known. */
const imageKeys = (i: CropItem) => (i.pixelKey ? [`crop:${i.cropSha256}`, `pixels:${i.pixelKey}`] : [`crop:${i.cropSha256}`]);

/**
 * Cells whose image (the same crop bytes, or the same pixels under other bytes) sits on the other
 * side of the TEST line as another cell: the same image uploaded to cases of two patients, which
 * the split by patient cannot see. Held out, so a locked TEST part, this one or an earlier one,
 * stays one of images no model learned from:
 *  - a TRAIN or VAL cell whose image is a TEST cell of an earlier snapshot;
 *  - a TEST cell whose image is learned from (TRAIN or VAL) here or in an earlier snapshot.
 * A cell's own earlier parts are assignSplits' business.
 */
export function crossPartDuplicates(rows: readonly CropItem[], earlier: readonly CropItem[]): Set<string> {
  const byImage = (items: readonly CropItem[]) => {
    const map = new Map<string, CropItem[]>();
    for (const i of items) {
      for (const key of imageKeys(i)) {
        const list = map.get(key);
        if (list) list.push(i);
        else map.set(key, [i]);
      }
    }
    return map;
  };
  const other = (map: Map<string, CropItem[]>, r: CropItem, tested: boolean) =>
    imageKeys(r).some((key) => (map.get(key) ?? []).some((i) => i.cellId !== r.cellId && (i.split === "TEST") === tested));
  const earlierByImage = byImage(earlier);
  const held = new Set(rows.filter((r) => r.split !== "TEST" && other(earlierByImage, r, true)).map((r) => r.cellId));
  const learned = byImage([...earlier, ...rows.filter((r) => r.split !== "TEST" && !held.has(r.cellId))]);
  for (const r of rows) if (r.split === "TEST" && other(learned, r, false)) held.add(r.cellId);
  return held;
}

/**
 * sha256 over the sorted (cellId, label, split, bulk) rows: equal content, equal hash. Whether a
 * label was a bulk confirmation is content too (since 2026-11-28): a snapshot whose items do not
 * record it, or record it otherwise (a bulk-confirmed cell since confirmed alone), is not reused
 * for labels that are otherwise the same.
 */
export function snapshotContentHash(rows: (SnapshotRow & { bulkConfirmed: boolean })[]): string {
  const hash = createHash("sha256");
  for (const r of [...rows].sort((a, b) => (a.cellId < b.cellId ? -1 : a.cellId > b.cellId ? 1 : 0))) {
    hash.update(`${r.cellId}\t${r.label}\t${r.split}\t${r.bulkConfirmed ? "bulk" : "alone"}\n`);
  }
  return hash.digest("hex");
}
