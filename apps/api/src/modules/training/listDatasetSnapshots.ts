import type { DatasetSnapshot, PrismaClient } from "@rcmnet/db";
import { notFound } from "../../errors.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export async function listDatasetSnapshots(prisma: PrismaClient, args: PageArgs) {
  const size = pageSize(args.first, PAGE_LIMITS["Query.datasetSnapshots"]);
  const cursor = args.after ? decodeCursor(args.after) : null;
  if (cursor !== null && !isUuid(cursor)) throw notFound("Cursor row");
  const rows = await prisma.datasetSnapshot.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: size + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  return toConnection(rows, size, (r) => r.id);
}

export async function getDatasetSnapshot(prisma: PrismaClient, id: string): Promise<DatasetSnapshot> {
  if (!isUuid(id)) throw notFound("Dataset snapshot");
  const row = await prisma.datasetSnapshot.findUnique({ where: { id } });
  if (!row) throw notFound("Dataset snapshot");
  return row;
}

/** Per-split and per-label counts of a snapshot (one grouped query). */
export async function snapshotCounts(prisma: PrismaClient, snapshotId: string) {
  const groups = await prisma.datasetItem.groupBy({
    by: ["label", "split"],
    where: { snapshotId },
    _count: true,
  });
  const splitCounts = { train: 0, val: 0, test: 0 };
  const labelCounts: Record<string, { TRAIN: number; VAL: number; TEST: number }> = {};
  for (const g of groups) {
    splitCounts[g.split.toLowerCase() as "train" | "val" | "test"] += g._count;
    labelCounts[g.label] ??= { TRAIN: 0, VAL: 0, TEST: 0 };
    labelCounts[g.label]![g.split] += g._count;
  }
  return { splitCounts, labelCounts };
}


export interface SplitSummary {
  patients: { train: number; val: number; test: number };
  heldOutCells: number;
  /** Cases without a patient reference in the snapshot, all in TRAIN (snapshots before 2026-11-28; 0 since). */
  casesWithoutPatient: number;
  /** Since 2026-11-28: cases without a patient reference left out of the snapshot, and their cells (absent before). */
  casesLeftOutWithoutPatient?: number;
  cellsLeftOutWithoutPatient?: number;
}

/** The split summary frozen at creation; null for snapshots taken before it was recorded. */
export function splitSummaryOf(snapshot: DatasetSnapshot): SplitSummary | null {
  return (snapshot.splitSummary as SplitSummary | null) ?? null;
}
