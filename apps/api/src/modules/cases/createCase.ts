import type { PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { conflict, isUniqueViolation } from "../../errors.ts";
import { auditSnapshot, recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { ACCESSION_PATTERN, ACCESSION_RULE } from "./accession.ts";
import { patientRefInput, specimenInput } from "./caseRules.ts";

export const createCaseInput = z.object({
  accession: z.string().trim().regex(new RegExp(`^${ACCESSION_PATTERN}$`), `accession: ${ACCESSION_RULE}`),
  patientRef: patientRefInput,
  product: z.string().trim().max(100).nullish(),
  timepoint: z.string().trim().max(50).nullish(),
  priority: z.enum(["ROUTINE", "URGENT", "STAT"]).nullish(),
  ...specimenInput,
});

export async function createCase(prisma: PrismaClient, actor: AuthUser, raw: unknown) {
  const input = parseInput(createCaseInput, raw);
  try {
    return await prisma.$transaction(async (tx) => {
      const row = await tx.case.create({
        data: {
          accession: input.accession,
          patientRef: input.patientRef ?? null,
          product: input.product ?? null,
          timepoint: input.timepoint ?? null,
          specimen: input.specimen ?? null,
          collectedAt: input.collectedAt ?? null,
          wbcCount: input.wbcCount ?? null,
          priority: input.priority ?? "ROUTINE",
          createdById: actor.id,
        },
      });
      await recordAudit(tx, actor, { action: "case.create", entityType: "Case", entityId: row.id, after: auditSnapshot(row) });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Accession ${input.accession} already exists`);
    throw err;
  }
}
