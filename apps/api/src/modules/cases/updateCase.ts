import type { PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { auditSnapshot, recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { conflict, forbidden } from "../../errors.ts";
import { assertNotSigned, lockCase, patientRefInput, specimenInput } from "./caseRules.ts";
import { mayChangeBeforeSignature } from "./caseStatus.ts";

export const updateCaseInput = z.object({
  id: z.string(),
  patientRef: patientRefInput,
  product: z.string().trim().max(100).nullish(),
  timepoint: z.string().trim().max(50).nullish(),
  priority: z.enum(["ROUTINE", "URGENT", "STAT"]).nullish(),
  ...specimenInput,
  /**
   * The case's updatedAt as the editor loaded it: a change made meanwhile is not overwritten.
   * Required: without it an edit would silently undo whatever another user saved since.
   */
  expectedUpdatedAt: z.date({ error: "expectedUpdatedAt (the case's updatedAt as you loaded it) is required, so that no one else's change is overwritten" }),
  reason: z.string().trim().min(3, "reason is required").max(1000),
});

/** Fields left out (undefined) are unchanged; null clears an optional field. */
export async function updateCase(prisma: PrismaClient, actor: AuthUser, raw: unknown) {
  const input = parseInput(updateCaseInput, raw);
  return prisma.$transaction(async (tx) => {
    const before = await lockCase(tx, input.id);
    assertNotSigned(before);
    if (!mayChangeBeforeSignature(actor.role, before.reportVersion)) {
      throw forbidden(`Case ${before.accession} is being amended (signed as version ${before.reportVersion}): only a hematologist may change its details, which the next version signs`);
    }
    if (input.expectedUpdatedAt.getTime() !== before.updatedAt.getTime()) {
      throw conflict("The case was changed by someone else since you opened it: reload to see the change, then edit again");
    }
    const after = await tx.case.update({
      where: { id: before.id },
      data: {
        ...(input.patientRef !== undefined ? { patientRef: input.patientRef } : {}),
        ...(input.product !== undefined ? { product: input.product } : {}),
        ...(input.timepoint !== undefined ? { timepoint: input.timepoint } : {}),
        ...(input.priority ? { priority: input.priority } : {}),
        ...(input.specimen !== undefined ? { specimen: input.specimen } : {}),
        ...(input.collectedAt !== undefined ? { collectedAt: input.collectedAt } : {}),
        ...(input.wbcCount !== undefined ? { wbcCount: input.wbcCount } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: "case.update",
      entityType: "Case",
      entityId: after.id,
      before: auditSnapshot(before),
      after: auditSnapshot(after),
      reason: input.reason,
    });
    return after;
  });
}
