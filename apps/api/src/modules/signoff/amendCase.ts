// After sign-off any change goes through an amendment with a reason; the signed version stays
// as signed and the next sign-off (version n+1) supersedes it.
import type { PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { conflict } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { isSigned, lockCase } from "../cases/caseRules.ts";

export const amendCaseInput = z.object({
  caseId: z.string(),
  reason: z.string().trim().min(3, "reason is required").max(2000),
});

export async function amendCase(prisma: PrismaClient, actor: AuthUser, raw: unknown) {
  const input = parseInput(amendCaseInput, raw);
  return prisma.$transaction(async (tx) => {
    const kase = await lockCase(tx, input.caseId);
    if (!isSigned(kase)) throw conflict(`Case ${kase.accession} is not signed (status ${kase.status}): nothing to amend`);
    const after = await tx.case.update({ where: { id: kase.id }, data: { status: "IN_REVIEW" } });
    await recordAudit(tx, actor, {
      action: "case.amend",
      entityType: "Case",
      entityId: kase.id,
      before: { status: kase.status, reportVersion: kase.reportVersion },
      after: { status: after.status, reopenedForVersion: kase.reportVersion + 1, accession: kase.accession },
      reason: input.reason,
    });
    return after;
  });
}
