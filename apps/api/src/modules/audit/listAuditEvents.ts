import type { Prisma, PrismaClient } from "@rcmnet/db";
import { badInput } from "../../errors.ts";
import { decodeCursor, isUuid, literalPrefix, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export interface AuditFilter {
  caseAccession?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  actorId?: string | null;
  actorLogin?: string | null;
  action?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export async function auditWhere(prisma: PrismaClient, filter: AuditFilter | null | undefined): Promise<Prisma.AuditEventWhereInput> {
  const f = filter ?? {};
  if (f.actorId && !isUuid(f.actorId)) throw badInput("actorId must be a user id");
  // Both entity filters narrow the same column; given together, an event must match both.
  const entityId: Prisma.StringFilter = {
    ...(f.entityId ? { equals: f.entityId } : {}),
    ...(f.caseAccession ? { in: await caseEntityIds(prisma, f.caseAccession) } : {}),
  };
  return {
    ...(f.entityId || f.caseAccession ? { entityId } : {}),
    ...(f.entityType ? { entityType: f.entityType } : {}),
    ...(f.actorId ? { actorId: f.actorId } : {}),
    ...(f.actorLogin ? { actorLogin: f.actorLogin } : {}),
    ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: literalPrefix(f.action) } } : { action: f.action }) : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
  };
}

/**
 * Ids of a case and of its slides and cells: every event of its history (sign-offs and
 * amendments are Case events; uploads and analyses Slide events; decisions Cell events). An
 * unknown accession matches nothing.
 */
async function caseEntityIds(prisma: PrismaClient, accession: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT k.id::text FROM "case" k WHERE k.accession = ${accession}
    UNION ALL SELECT s.id::text FROM slide s JOIN "case" k ON k.id = s."caseId" WHERE k.accession = ${accession}
    UNION ALL SELECT c.id::text FROM cell c JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId" WHERE k.accession = ${accession}`;
  return rows.map((r) => r.id);
}

/** Newest first; the cursor is the seq. */
export async function listAuditEvents(prisma: PrismaClient, filter: AuditFilter | null | undefined, page: PageArgs) {
  const size = pageSize(page.first, PAGE_LIMITS["Query.auditTrail"]);
  const after = page.after ? decodeCursor(page.after) : null;
  // Within bigint: a larger number would reach PostgreSQL and fail there as an internal error.
  if (after !== null && (!/^[0-9]{1,19}$/.test(after) || BigInt(after) > 2n ** 63n - 1n)) throw badInput("Invalid cursor");
  const where = await auditWhere(prisma, filter);
  const rows = await prisma.auditEvent.findMany({
    where: after ? { AND: [where, { seq: { lt: BigInt(after) } }] } : where,
    orderBy: { seq: "desc" },
    take: size + 1,
  });
  return toConnection(rows, size, (e) => e.seq.toString());
}
