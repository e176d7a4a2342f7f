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

/**
 * Events about a user that name the case they were for in `after.caseId` (a wrong signature
 * password while signing it, the lockout that followed, an attempt refused by that lock): part of the case's history, though their
 * entity is the user. Listed by action, so that the JSON is read only on their rows (action index).
 */
const CASE_CONTEXT_ACTIONS = ["auth.signature_failed", "auth.lockout", "auth.signature_locked"];

/**
 * Events that act on entities other than their own and record which in their payload: part of
 * those entities' history, so an entity id filter finds them too. A re-prediction is one Case
 * event per batch, listing its cells (`after.cellIds`; `after.changes` says whose label moved) and
 * the model that predicted; a promotion or rollback is a ModelPromotion event naming the version
 * proposed or decided (`after.modelVersionId`) and the champion it would replace
 * (`after.replacesChampionId`); a champion change names the champions it replaced (each also has a
 * `model.status` event of its own). `type` is the entity the id is of, matched against an
 * entityType given with the id.
 *
 * Listed by action, so that the JSON is read only on those actions' rows (the action index, or-ed
 * with the entityId index): no index reaches inside the JSON, so a cell's or a model's filter reads
 * every event of these actions (one per re-predicted batch of a case, a few per promotion). A GIN
 * index over `after->'cellIds'` would bound it by the matches, should the re-predictions grow.
 */
const RELATED_IDS: readonly { actions: readonly string[]; field: "before" | "after"; key: string; many: boolean; type: string }[] = [
  { actions: ["case.repredict"], field: "after", key: "cellIds", many: true, type: "Cell" },
  { actions: ["case.repredict"], field: "after", key: "modelVersionId", many: false, type: "ModelVersion" },
  { actions: ["model.proposePromotion", "model.proposeRollback"], field: "after", key: "modelVersionId", many: false, type: "ModelVersion" },
  { actions: ["model.proposePromotion", "model.proposeRollback"], field: "after", key: "replacesChampionId", many: false, type: "ModelVersion" },
  { actions: ["model.approvePromotion", "model.rejectPromotion"], field: "after", key: "modelVersionId", many: false, type: "ModelVersion" },
  { actions: ["model.championChanged"], field: "before", key: "previousChampionIds", many: true, type: "ModelVersion" },
];

/**
 * An entity's history: its own events (of `entityType` too, when given), and the events that name
 * it among the entities they acted on (RELATED_IDS, of that type when one is given).
 */
function entityHistory(entityId: string, entityType: string | null | undefined): Prisma.AuditEventWhereInput {
  const related = RELATED_IDS.filter((r) => !entityType || r.type === entityType).map((r): Prisma.AuditEventWhereInput => {
    const names: Prisma.JsonNullableFilter<"AuditEvent"> = r.many ? { path: [r.key], array_contains: [entityId] } : { path: [r.key], equals: entityId };
    return { action: r.actions.length === 1 ? r.actions[0]! : { in: [...r.actions] }, [r.field]: names };
  });
  return { OR: [{ entityId, ...(entityType ? { entityType } : {}) }, ...related] };
}

export async function auditWhere(prisma: PrismaClient, filter: AuditFilter | null | undefined): Promise<Prisma.AuditEventWhereInput> {
  const f = filter ?? {};
  if (f.actorId && !isUuid(f.actorId)) throw badInput("actorId must be a user id");
  const history = f.caseAccession ? await caseHistory(prisma, f.caseAccession) : null;
  // Both entity filters apply; given together, an event must match both. An entity id selects
  // that entity's history (entityHistory), with the entity type if given; a type alone, the
  // events of that type.
  return {
    AND: [
      f.entityId ? entityHistory(f.entityId, f.entityType) : {},
      history
        ? {
            OR: [
              { entityId: { in: history.entityIds } },
              ...(history.caseId ? [{ entityType: "User", action: { in: CASE_CONTEXT_ACTIONS }, after: { path: ["caseId"], equals: history.caseId } }] : []),
            ],
          }
        : {},
    ],
    ...(f.entityType && !f.entityId ? { entityType: f.entityType } : {}),
    ...(f.actorId ? { actorId: f.actorId } : {}),
    ...(f.actorLogin ? { actorLogin: f.actorLogin } : {}),
    ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: literalPrefix(f.action) } } : { action: f.action }) : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
  };
}

/**
 * A case's id, and the ids of the case and of its slides and cells: every event of its history
 * (sign-offs and amendments are Case events; uploads and analyses Slide events; decisions Cell
 * events). An unknown accession matches nothing.
 */
async function caseHistory(prisma: PrismaClient, accession: string): Promise<{ caseId: string | null; entityIds: string[] }> {
  const rows = await prisma.$queryRaw<{ id: string; kind: string }[]>`
    SELECT k.id::text, 'case' AS kind FROM "case" k WHERE k.accession = ${accession}
    UNION ALL SELECT s.id::text, 'slide' FROM slide s JOIN "case" k ON k.id = s."caseId" WHERE k.accession = ${accession}
    UNION ALL SELECT c.id::text, 'cell' FROM cell c JOIN slide s ON s.id = c."slideId" JOIN "case" k ON k.id = s."caseId" WHERE k.accession = ${accession}`;
  return { caseId: rows.find((r) => r.kind === "case")?.id ?? null, entityIds: rows.map((r) => r.id) };
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
