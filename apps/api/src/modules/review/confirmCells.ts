// Confirms the label the reviewer saw on one or many cells of one case: all or nothing.
import type { Cell, Prisma, PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, isUniqueViolation } from "../../errors.ts";
import { parseInput } from "../../lib/validate.ts";
import { allowedLabels, assertReasonToLeaveUnidentified, lockCaseOfCells } from "./reviewRules.ts";
import { labelChanged, staleReview } from "./reclassifyCell.ts";
import { withdrawnSql } from "../models/withdrawn.ts";
import { CART_LABEL } from "../cases/whiteCellDifferential.ts";
import { stillWithdrawn, withdrawingRetractions } from "../signoff/withdrawnCells.ts";

export const MAX_BULK_CONFIRM = 1000;
/**
 * Several cells confirmed at once must each carry a confident AI call (newest prediction, not
 * abstained, confidence at least this) of a model no rollback has withdrawn: the others are
 * decided one by one. After a rollback the withdrawn model's calls stay on open cases until the
 * re-prediction (repredictOpenCases) has replaced them, and on cells decided before; accepting them
 * unseen by the group would sign what the lab has just stopped trusting. (A model merely succeeded by a promotion was
 * trusted when it made its calls: they stay confirmable.) Served as
 * Query.reviewPolicy, from which the dashboard flags and leaves out the same cells.
 */
export const BULK_MIN_CONFIDENCE = 0.8;
/**
 * Classes never confirmed several at once, however confident the AI: CAR-T calls. The CAR-T count
 * is what the report exists for (it drives therapy monitoring), and CAR-T cells look much like
 * other lymphocytes: a CAR-T call is confirmed by a person looking at that cell, one confirmation
 * per cell (as CellaVision requires individual verification of critical classes). Matched by the
 * label being confirmed (the cell's current label), however a model spells the class (CART_LABEL:
 * car_t, CAR-T). Served as Query.reviewPolicy.bulkExcludedLabels (the registry's labels these
 * match), from which the dashboard leaves the same cells out of its bulk action.
 */
export const BULK_EXCLUDED_CLASSES: readonly { name: string; label: RegExp }[] = [{ name: "CAR-T", label: CART_LABEL }];

/** The class of BULK_EXCLUDED_CLASSES a label belongs to, or null when it may be confirmed in bulk. */
export function bulkExcludedClass(label: string | null | undefined): string | null {
  if (!label) return null;
  return BULK_EXCLUDED_CLASSES.find((c) => c.label.test(label))?.name ?? null;
}

/**
 * The labels a reviewer can meet (allowedLabels: the registered models' classes plus the
 * human-only ones) that BULK_EXCLUDED_CLASSES exclude: Query.reviewPolicy.bulkExcludedLabels.
 */
export async function bulkExcludedLabels(db: Prisma.TransactionClient): Promise<string[]> {
  return (await allowedLabels(db)).filter((l) => bulkExcludedClass(l) !== null);
}

export const confirmCellsInput = z
  .array(
    z.object({
      cellId: z.string(),
      expectedReviewCount: z.number().int().min(0),
      // Required: the label to confirm is the one the reviewer saw, never whatever the row holds
      // by the time the request lands (a re-prediction changes undecided cells' labels).
      expectedLabel: z.string().min(1).max(64),
      reason: z.string().trim().max(1000).nullish(),
    }),
  )
  .min(1, "at least one cell")
  .max(MAX_BULK_CONFIRM, `at most ${MAX_BULK_CONFIRM} cells per request`);

/**
 * `asGroup`: the cells were accepted with a gallery group's button, however many (its last
 * confident cell is a group of one): held to the bulk rules and recorded as a bulk confirmation,
 * as several cells in one request always are.
 */
export async function confirmCells(prisma: PrismaClient, actor: AuthUser, raw: unknown, asGroup = false) {
  const input = parseInput(confirmCellsInput, raw);
  const ids = input.map((c) => c.cellId);
  const group = asGroup || ids.length > 1;
  if (new Set(ids).size !== ids.length) throw badInput("A cell is listed twice");
  try {
    return await prisma.$transaction(async (tx) => {
      const kase = await lockCaseOfCells(tx, ids);
      const cells = await tx.cell.findMany({ where: { id: { in: ids } } });
      const byId = new Map(cells.map((c) => [c.id, c]));
      for (const item of input) {
        const cell = byId.get(item.cellId)!;
        if (cell.reviewCount !== item.expectedReviewCount) throw staleReview(cell.reviewCount, cell.currentLabel);
        if (cell.currentLabel === null) throw badInput("A cell without a label cannot be confirmed: reclassify it");
      }
      const moved = input.filter((item) => byId.get(item.cellId)!.currentLabel !== item.expectedLabel);
      if (moved.length > 0) throw labelChanged(moved.length, ids.length, byId.get(moved[0]!.cellId)!);
      if (group) await assertBulkConfirmable(tx, kase.id, ids.map((id) => byId.get(id)!));
      for (const item of input) assertReasonToLeaveUnidentified(byId.get(item.cellId)!.currentLabel, item.reason);
      // One statement for the whole batch; a row whose reviewCount or label moved since it was
      // read (a re-prediction by a new champion rewrites the label of an undecided cell) is not
      // updated, the counts differ, and the transaction rolls back (nothing half-confirmed).
      const updated = await tx.$executeRaw`
        UPDATE cell c SET "reviewCount" = c."reviewCount" + 1
        FROM (SELECT unnest(${ids}::uuid[]) AS id, unnest(${input.map((i) => i.expectedReviewCount)}::int[]) AS expected,
                     unnest(${input.map((i) => i.expectedLabel)}::text[]) AS label) v
        WHERE c.id = v.id AND c."reviewCount" = v.expected AND c."currentLabel" = v.label`;
      if (updated !== ids.length) throw staleReview(null, null);
      // A confirmation made with others says so on its review too (bulkSize: how many), so a
      // snapshot can tell which of its labels were accepted with a gallery group (createDatasetSnapshot).
      const bulkSize = group ? ids.length : null;
      await tx.review.createMany({
        data: input.map((item) => {
          const cell = byId.get(item.cellId)!;
          return {
            cellId: cell.id,
            seq: item.expectedReviewCount + 1,
            reviewerId: actor.id,
            action: "CONFIRM" as const,
            label: cell.currentLabel!,
            previousLabel: cell.currentLabel,
            reason: item.reason || null,
            reportVersion: kase.reportVersion,
            bulkSize,
          };
        }),
      });
      // One audit event per cell, so the trail of any single cell is complete; a confirmation
      // made as one of several at once says so (`bulk`: how many), so an auditor can tell a
      // cell looked at alone from one accepted with its whole gallery group.
      const bulk = group ? { bulk: ids.length } : {};
      await tx.auditEvent.createMany({
        data: input.map((item): Prisma.AuditEventCreateManyInput => {
          const cell = byId.get(item.cellId)!;
          return {
            actorId: actor.id,
            actorLogin: actor.login,
            action: "cell.confirm",
            entityType: "Cell",
            entityId: cell.id,
            before: { label: cell.currentLabel, reviewCount: cell.reviewCount },
            after: { label: cell.currentLabel, reviewCount: cell.reviewCount + 1, caseAccession: kase.accession, ...bulk },
            reason: item.reason || null,
          };
        }),
      });
      const rows = await tx.cell.findMany({ where: { id: { in: ids } } });
      const order = new Map(ids.map((id, i) => [id, i]));
      return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw staleReview(null, null);
    throw err;
  }
}

interface NewestCall {
  cellId: string;
  /** The cell's current label: the one a confirmation confirms. */
  currentLabel: string | null;
  /** What the call said (the label it vouches for, with its confidence). */
  aiLabel: string;
  confidence: number;
  abstained: boolean;
  withdrawn: boolean;
  model: string;
}

/**
 * Each cell's newest AI call, with whether an approved rollback withdrew its model, and the cell's
 * current label (cells without a call are absent).
 */
async function newestCalls(db: Pick<Prisma.TransactionClient, "$queryRaw">, ids: string[]): Promise<NewestCall[]> {
  return db.$queryRaw<NewestCall[]>`
    SELECT DISTINCT ON (p."cellId") p."cellId", c."currentLabel", p."label" AS "aiLabel", p."confidence", p."abstained",
           ${withdrawnSql("mv")} AS withdrawn,
           mv."name" || ' ' || mv."version" AS model
    FROM "prediction" p JOIN "model_version" mv ON mv.id = p."modelVersionId" JOIN "cell" c ON c.id = p."cellId"
    WHERE p."cellId" = ANY(${ids}::uuid[])
    ORDER BY p."cellId", p."createdAt" DESC, p."id" DESC`;
}

/**
 * A call that vouches for the label being confirmed: confident, not an abstention, and of that very
 * label. A confident call of another label (a cell reclassified earlier: a confident CAR-T call
 * now labelled lymphocyte) is evidence against it, as the dashboard's bulk action reads it too.
 */
function vouchesForLabel(p: NewestCall): boolean {
  return !p.abstained && p.confidence >= BULK_MIN_CONFIDENCE && p.aiLabel === p.currentLabel;
}

/**
 * The cells among `ids` that may be confirmed in bulk: a newest AI call of a model not withdrawn
 * that vouches for the current label, of no class confirmed one by one (BULK_EXCLUDED_CLASSES).
 */
export async function bulkConfirmableCells(db: Pick<Prisma.TransactionClient, "$queryRaw">, ids: string[]): Promise<Set<string>> {
  const newest = await newestCalls(db, ids);
  return new Set(newest.filter((p) => !p.withdrawn && vouchesForLabel(p) && bulkExcludedClass(p.currentLabel) === null).map((p) => p.cellId));
}

/**
 * Refuses a bulk confirm that includes a cell whose label is of a class confirmed one by one
 * (BULK_EXCLUDED_CLASSES: CAR-T) or whose newest AI call does not vouch for the label confirmed (BAD_USER_INPUT), or is
 * by a model an approved rollback withdrew (CONFLICT: the registry changed under the case since
 * its analysis).
 */
async function assertBulkConfirmable(tx: Prisma.TransactionClient, caseId: string, cells: Cell[]): Promise<void> {
  const ids = cells.map((c) => c.id);
  // A cell a retraction withdrew counts again in the next result only by a decision made on it
  // since (D10): one made with a gallery group, unseen, would re-count a clotted specimen's cells.
  const retraction = (await withdrawingRetractions(tx, [caseId])).get(caseId);
  const again = retraction ? cells.filter((c) => stillWithdrawn(retraction, c)).length : 0;
  if (retraction && again > 0) {
    throw badInput(
      `${again} of these ${ids.length} cells were withdrawn by the retraction signed as version ${retraction.version}: after a retraction each is decided again one by one, by looking at that cell (or its image is voided)`,
      { field: "cells", withdrawnCells: again },
    );
  }
  for (const { name } of BULK_EXCLUDED_CLASSES) {
    const excluded = cells.filter((c) => bulkExcludedClass(c.currentLabel) === name).length;
    if (excluded > 0) {
      throw badInput(
        `${excluded} of these ${ids.length} cells are ${name} calls, which are never confirmed in bulk: confirm those one by one, each by looking at that cell`,
        { field: "cells", excludedClass: name, excludedCells: excluded },
      );
    }
  }
  const newest = await newestCalls(tx, ids);
  const confident = new Set(newest.filter(vouchesForLabel).map((p) => p.cellId));
  const unsure = ids.filter((id) => !confident.has(id)).length;
  if (unsure > 0) {
    throw badInput(
      `${unsure} of these ${ids.length} cells have no AI call of at least ${BULK_MIN_CONFIDENCE * 100}% confidence for the label being confirmed: confirm those one by one`,
      { field: "cells" },
    );
  }
  const withdrawn = newest.filter((p) => p.withdrawn);
  if (withdrawn.length > 0) {
    const models = [...new Set(withdrawn.map((p) => p.model))].sort();
    throw conflict(
      `${withdrawn.length} of these ${ids.length} cells carry suggestions of ${models.join(" and ")}, which a rollback withdrew from service: check those cells and confirm them one by one`,
      { field: "cells", models },
    );
  }
}
