// Differential count: per-class counts over each cell's current label (the human decision,
// else the AI's). Artifacts are not cells of the sample, so they are reported but left out of
// the denominator, as in a manual differential; "unidentified" stays in it.
import type { PrismaClient } from "@rcmnet/db";
import { ARTIFACT, CART_LABEL } from "./caseRules.ts";

export interface LabelCount {
  label: string | null;
  count: number;
  reviewed: number;
}

export interface Differential {
  total: number;
  counted: number;
  rows: { label: string; count: number; percent: number }[];
  artifacts: number;
  unlabelled: number;
  unreviewed: number;
  cartCount: number;
  cartPercent: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function computeDifferential(counts: LabelCount[]): Differential {
  let total = 0, artifacts = 0, unlabelled = 0, reviewed = 0;
  const rows: { label: string; count: number }[] = [];
  for (const c of counts) {
    total += c.count;
    reviewed += c.reviewed;
    if (c.label === null) unlabelled += c.count;
    else if (c.label === ARTIFACT) artifacts += c.count;
    else rows.push({ label: c.label, count: c.count });
  }
  const counted = rows.reduce((s, r) => s + r.count, 0);
  const pct = (n: number) => (counted === 0 ? 0 : round2((100 * n) / counted));
  const cartCount = rows.filter((r) => CART_LABEL.test(r.label)).reduce((s, r) => s + r.count, 0);
  return {
    total,
    counted,
    rows: rows.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)).map((r) => ({ ...r, percent: pct(r.count) })),
    artifacts,
    unlabelled,
    unreviewed: total - reviewed,
    cartCount,
    cartPercent: pct(cartCount),
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
