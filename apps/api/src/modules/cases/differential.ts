// The case's differential count over each cell's current label (the human decision, else the
// AI's): the white-cell figures of whiteCellDifferential.ts, plus what only the server knows
// (cells without a label or a human decision yet).
import type { PrismaClient } from "@rcmnet/db";
import { ARTIFACT } from "./caseRules.ts";
import { type WhiteCellDifferential, whiteCellDifferential } from "./whiteCellDifferential.ts";

export interface LabelCount {
  label: string | null;
  count: number;
  reviewed: number;
}

export interface Differential extends WhiteCellDifferential {
  /** Every cell of the case (objects reviewed), whatever its label. */
  total: number;
  artifacts: number;
  unlabelled: number;
  unreviewed: number;
}

export function computeDifferential(counts: LabelCount[]): Differential {
  const labelled = counts.filter((c): c is LabelCount & { label: string } => c.label !== null);
  const white = whiteCellDifferential(labelled);
  const sum = (list: LabelCount[], key: "count" | "reviewed") => list.reduce((s, c) => s + c[key], 0);
  const total = sum(counts, "count");
  return {
    ...white,
    total,
    // Every spelling ("Artifact", "artifact") is listed apart: all of them are artifacts.
    artifacts: white.excluded.filter((e) => e.label.toLowerCase() === ARTIFACT).reduce((s, e) => s + e.count, 0),
    unlabelled: total - sum(labelled, "count"),
    unreviewed: total - sum(counts, "reviewed"),
  };
}

export async function caseLabelCounts(prisma: PrismaClient, caseId: string): Promise<LabelCount[]> {
  const rows = await prisma.$queryRaw<{ label: string | null; count: bigint; reviewed: bigint }[]>`
    SELECT c."currentLabel" AS label, count(*) AS count, count(*) FILTER (WHERE c."reviewCount" > 0) AS reviewed
    FROM cell c JOIN slide s ON s.id = c."slideId"
    WHERE s."caseId" = ${caseId}::uuid AND s."analysisStatus" <> 'FAILED'
    GROUP BY c."currentLabel"`;
  return rows.map((r) => ({ label: r.label, count: Number(r.count), reviewed: Number(r.reviewed) }));
}
