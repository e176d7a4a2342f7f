// The case's differential count over each cell's current label (the human decision, else the
// AI's): the white-cell figures of whiteCellDifferential.ts, plus what only the server knows
// (cells without a label or a human decision yet).
import type { PrismaClient } from "@rcmnet/db";
import { ARTIFACT } from "./caseRules.ts";
import { byClassOrder, isUnidentified, screensForCart, type WhiteCellDifferential, whiteCellDifferential } from "./whiteCellDifferential.ts";

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

/**
 * The classes listed even where no cell has them, in the differential's order: those the models
 * that classified the cells can call, unidentified and artifact aside.
 */
export function screenedClasses(modelLabelSets: readonly (readonly string[])[]): string[] {
  return [...new Set(modelLabelSets.flat())].filter((l) => !isUnidentified(l) && l.toLowerCase() !== ARTIFACT).sort(byClassOrder);
}

/**
 * `modelLabelSets`: the label sets of the models that classified the cells (modelLabelSetsByCase):
 * whether they can call CAR-T (screensForCart), and which classes are listed even at 0.
 */
export function computeDifferential(counts: LabelCount[], modelLabelSets: readonly (readonly string[])[]): Differential {
  const labelled = counts.filter((c): c is LabelCount & { label: string } => c.label !== null);
  const white = whiteCellDifferential(labelled, screensForCart(modelLabelSets), screenedClasses(modelLabelSets));
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
    WHERE s."caseId" = ${caseId}::uuid AND s."analysisStatus" <> 'FAILED' AND s."voidedAt" IS NULL
    GROUP BY c."currentLabel"`;
  return rows.map((r) => ({ label: r.label, count: Number(r.count), reviewed: Number(r.reviewed) }));
}

/**
 * The label sets of the models whose call is each cell's AI call (its newest prediction), per
 * case, over the slides whose analysis did not fail and that were not voided: what screensForCart judges.
 */
export async function modelLabelSetsByCase(prisma: PrismaClient, caseIds: readonly string[]): Promise<Map<string, string[][]>> {
  const rows = await prisma.$queryRaw<{ caseId: string; labels: string[] }[]>`
    SELECT DISTINCT s."caseId", mv.labels
    FROM slide s JOIN cell c ON c."slideId" = s.id
    JOIN LATERAL (SELECT "modelVersionId" FROM prediction WHERE "cellId" = c.id ORDER BY "createdAt" DESC, id DESC LIMIT 1) p ON true
    JOIN model_version mv ON mv.id = p."modelVersionId"
    WHERE s."caseId" = ANY(${[...caseIds]}::uuid[]) AND s."analysisStatus" <> 'FAILED' AND s."voidedAt" IS NULL`;
  const byCase = new Map<string, string[][]>(caseIds.map((id) => [id, []]));
  for (const r of rows) byCase.get(r.caseId)?.push(r.labels);
  return byCase;
}
