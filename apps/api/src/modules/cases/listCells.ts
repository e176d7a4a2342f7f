import type { Cell, Prisma, PrismaClient } from "@rcmnet/db";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs, type PageInfo } from "../../lib/pagination.ts";

export interface CellFilter {
  label?: string | null;
  slideId?: string | null;
  needsReview?: boolean | null;
}

/** GraphQL CellConnection before field resolution (codegen mapper). */
export interface CellPage {
  nodes: Cell[];
  pageInfo: PageInfo;
  where: Prisma.CellWhereInput;
  /** Set when the first page already holds every matching cell (no count query needed). */
  knownTotal?: number;
}

/** The cells of a case in slide order, cursor-paginated; a review page asks for up to 1000. */
export async function listCells(prisma: PrismaClient, caseId: string, filter: CellFilter, page: PageArgs): Promise<CellPage> {
  const size = pageSize(page.first, PAGE_LIMITS["Case.cells"]);
  const where: Prisma.CellWhereInput = {
    // A slide whose analysis failed may have stored some of its cells first: they are not part of
    // the case (nor of its counts or signature), the image is reported as failed instead. A voided
    // image's cells are out of the case too, but kept on record: asked for by their slide, they
    // are listed (and their slide says it was voided).
    slide: { caseId, analysisStatus: { not: "FAILED" }, ...(filter.slideId ? {} : { voidedAt: null }) },
    ...(filter.slideId ? { slideId: isUuid(filter.slideId) ? filter.slideId : "00000000-0000-0000-0000-000000000000" } : {}),
    ...(filter.label ? { currentLabel: filter.label } : {}),
    ...(filter.needsReview === true ? { reviewCount: 0 } : filter.needsReview === false ? { reviewCount: { gt: 0 } } : {}),
  };
  const after = page.after ? decodeCursor(page.after) : null;
  if (after !== null && !isUuid(after)) return { ...toConnection<Cell>([], size, () => ""), where: { id: { in: [] } } };
  const rows = await prisma.cell.findMany({
    where,
    orderBy: [{ slideId: "asc" }, { y: "asc" }, { x: "asc" }, { id: "asc" }],
    take: size + 1,
    ...(after ? { cursor: { id: after }, skip: 1 } : {}),
  });
  // totalCount is resolved from `where` only when selected (one query saved otherwise).
  const conn = toConnection(rows, size, (c) => c.id);
  return { ...conn, where, ...(!after && !conn.pageInfo.hasNextPage ? { knownTotal: conn.nodes.length } : {}) };
}
