import type { CaseStatus, PrismaClient } from "@rcmnet/db";
import { type CaseFilter, caseWhere } from "./listCases.ts";

const STATUSES: CaseStatus[] = ["RECEIVED", "ANALYZING", "IN_REVIEW", "SIGNED_OUT", "AMENDED"];

/**
 * Cases per status for the worklist's count badges, over ALL matching cases (not one page).
 * The filter's own status list is ignored, so every status keeps its count while the user
 * narrows by priority or accession. One GROUP BY, whatever the number of cases.
 */
export async function countCasesByStatus(prisma: PrismaClient, filter: CaseFilter | null | undefined) {
  const groups = await prisma.case.groupBy({
    by: ["status"],
    where: caseWhere({ ...filter, status: null }),
    _count: { _all: true },
  });
  const byStatus = new Map(groups.map((g) => [g.status, g._count._all]));
  return STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 }));
}
