import type { Prisma, PrismaClient } from "@rcmnet/db";
import { decodeCursor, isUuid, literalPrefix, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export interface CaseFilter {
  status?: readonly string[] | null;
  priority?: readonly string[] | null;
  accession?: string | null;
}

export function caseWhere(filter: CaseFilter | null | undefined): Prisma.CaseWhereInput {
  return {
    ...(filter?.status?.length ? { status: { in: filter.status as never } } : {}),
    ...(filter?.priority?.length ? { priority: { in: filter.priority as never } } : {}),
    ...(filter?.accession ? { accession: { startsWith: literalPrefix(filter.accession) } } : {}),
  };
}

/** Worklist order: priority STAT > URGENT > ROUTINE (enum order, descending), then oldest first. */
export async function listCases(prisma: PrismaClient, filter: CaseFilter | null | undefined, page: PageArgs) {
  const size = pageSize(page.first, PAGE_LIMITS["Query.cases"]);
  const where = caseWhere(filter);
  const after = page.after ? decodeCursor(page.after) : null;
  if (after !== null && !isUuid(after)) return toConnection([], size, () => "");
  const rows = await prisma.case.findMany({
    where,
    orderBy: [{ priority: "desc" }, { createdAt: "asc" }, { id: "asc" }],
    take: size + 1,
    ...(after ? { cursor: { id: after }, skip: 1 } : {}),
  });
  return toConnection(rows, size, (c) => c.id);
}
