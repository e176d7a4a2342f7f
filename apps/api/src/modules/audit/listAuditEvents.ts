import type { Prisma, PrismaClient } from "@rcmnet/db";
import { badInput } from "../../errors.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export interface AuditFilter {
  entityType?: string | null;
  entityId?: string | null;
  actorId?: string | null;
  actorLogin?: string | null;
  action?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export function auditWhere(filter: AuditFilter | null | undefined): Prisma.AuditEventWhereInput {
  const f = filter ?? {};
  if (f.actorId && !isUuid(f.actorId)) throw badInput("actorId must be a user id");
  return {
    ...(f.entityType ? { entityType: f.entityType } : {}),
    ...(f.entityId ? { entityId: f.entityId } : {}),
    ...(f.actorId ? { actorId: f.actorId } : {}),
    ...(f.actorLogin ? { actorLogin: f.actorLogin } : {}),
    ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: f.action } } : { action: f.action }) : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
  };
}

/** Newest first; the cursor is the seq. */
export async function listAuditEvents(prisma: PrismaClient, filter: AuditFilter | null | undefined, page: PageArgs) {
  const size = pageSize(page.first, PAGE_LIMITS["Query.auditTrail"]);
  const after = page.after ? decodeCursor(page.after) : null;
  if (after !== null && !/^[0-9]{1,19}$/.test(after)) throw badInput("Invalid cursor");
  const where = auditWhere(filter);
  const rows = await prisma.auditEvent.findMany({
    where: after ? { AND: [where, { seq: { lt: BigInt(after) } }] } : where,
    orderBy: { seq: "desc" },
    take: size + 1,
  });
  return toConnection(rows, size, (e) => e.seq.toString());
}
