// A human label decision on one cell (append-only Review row + the cached Cell.currentLabel).
import type { Cell, PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, isUniqueViolation } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { aiLabel, allowedLabels, assertReasonToLeaveUnidentified, lockCaseOfCells } from "./reviewRules.ts";

export const reclassifyCellInput = z.object({
  cellId: z.string(),
  expectedReviewCount: z.number().int().min(0),
  // Required, null for a cell shown without a label: the label changed is the one the reviewer saw
  // and wrote the reason against, never whatever the row holds by the time the request lands (a
  // re-prediction changes undecided cells' labels), as for confirmCells.
  expectedLabel: z.string().min(1).max(64).nullable(),
  label: z.string().trim().min(1).max(64),
  reason: z.string().trim().max(1000).nullish(),
});

export async function reclassifyCell(prisma: PrismaClient, actor: AuthUser, raw: unknown) {
  const input = parseInput(reclassifyCellInput, raw);
  try {
    return await prisma.$transaction(async (tx) => {
      const kase = await lockCaseOfCells(tx, [input.cellId]);
      const labels = await allowedLabels(tx);
      if (!labels.includes(input.label)) throw badInput(`Unknown label "${input.label}"`, { allowed: labels });
      const cell = await tx.cell.findUniqueOrThrow({ where: { id: input.cellId } });
      if (cell.reviewCount !== input.expectedReviewCount) throw staleReview(cell.reviewCount, cell.currentLabel);
      if (cell.currentLabel !== input.expectedLabel) throw labelChanged(1, 1, cell);
      if (cell.currentLabel === input.label) throw badInput("The cell already has this label: confirm it instead");
      const prediction = await tx.prediction.findFirst({ where: { cellId: cell.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
      const ai = aiLabel(prediction);
      // Overriding the AI is a judgement others must be able to follow: the reason is kept.
      if (ai !== null && ai !== input.label && !input.reason) {
        throw badInput(`A reason is required to override the AI's label "${ai}"`);
      }
      assertReasonToLeaveUnidentified(input.label, input.reason);
      const updated = await tx.cell.updateMany({
        where: { id: cell.id, reviewCount: input.expectedReviewCount, currentLabel: input.expectedLabel },
        data: { reviewCount: { increment: 1 }, currentLabel: input.label },
      });
      if (updated.count !== 1) throw staleReview(null, null);
      const review = await tx.review.create({
        data: {
          cellId: cell.id,
          seq: input.expectedReviewCount + 1,
          reviewerId: actor.id,
          action: "RECLASSIFY",
          label: input.label,
          previousLabel: cell.currentLabel,
          reason: input.reason ?? null,
          reportVersion: kase.reportVersion,
        },
      });
      await recordAudit(tx, actor, {
        action: "cell.reclassify",
        entityType: "Cell",
        entityId: cell.id,
        before: { label: cell.currentLabel, reviewCount: cell.reviewCount, aiLabel: ai },
        after: { label: input.label, reviewCount: review.seq, reviewId: review.id, caseAccession: kase.accession },
        reason: input.reason ?? null,
      });
      return tx.cell.findUniqueOrThrow({ where: { id: cell.id } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw staleReview(null, null);
    throw err;
  }
}

export function staleReview(current: number | null, label: string | null) {
  return conflict("Another reviewer changed this cell first; reload it and decide again", {
    ...(current === null ? {} : { currentReviewCount: current, currentLabel: label }),
  });
}

/**
 * The stale-review CONFLICT (same code and extensions as staleReview) for labels that changed
 * while the reviewer looked: a new champion predicted the undecided cells again.
 */
export function labelChanged(moved: number, of: number, first: Cell) {
  const what = of === 1 ? "This cell's label" : `The label of ${moved} of these ${of} cells`;
  return conflict(`${what} changed since your page loaded (a new AI model predicted it again): reload and decide again`, {
    currentReviewCount: first.reviewCount,
    currentLabel: first.currentLabel,
    ...(of === 1 ? {} : { cellId: first.id, changedCells: moved }),
  });
}
