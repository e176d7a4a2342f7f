// After sign-off any change goes through an amendment with a reason; the signed version stays
// as signed and the next sign-off (version n+1) supersedes it.
import type { Prisma, PrismaClient } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { conflict } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { isAmendmentOpen, isSigned, lockCase } from "../cases/caseRules.ts";

export const amendCaseInput = z.object({
  caseId: z.string(),
  reason: z.string().trim().min(3, "reason is required").max(2000),
  /**
   * The signed version the page showed. Someone else may have amended and signed meanwhile: a
   * reason written about version 1 must not reopen version 2, which the user has not read.
   */
  // Required: a client that left it out could reopen a version its user never read.
  expectedReportVersion: z.number().int().min(1),
});

/** How an amendment was opened, as its case.amend audit event recorded it. */
export interface AmendEvent {
  at: Date;
  /** Null only for an event recorded by the system (none amends; kept for the column's sake). */
  actorId: string | null;
  actorLogin: string;
  reason: string | null;
}

/**
 * The latest case.amend audit event of each case (absent: never amended). The one record of why
 * an amendment was opened: the signature of the next version certifies that reason
 * (signOffCase), and the case shows it to whoever finishes the amendment (Case.amendmentReason).
 */
export async function latestAmendEvents(db: Pick<Prisma.TransactionClient, "auditEvent">, caseIds: readonly string[]): Promise<Map<string, AmendEvent>> {
  const rows = await db.auditEvent.findMany({
    where: { entityType: "Case", entityId: { in: [...caseIds] }, action: "case.amend" },
    orderBy: { seq: "desc" },
    distinct: ["entityId"],
    select: { entityId: true, at: true, actorId: true, actorLogin: true, reason: true },
  });
  return new Map(rows.map(({ entityId, ...event }) => [entityId, event]));
}

export async function amendCase(prisma: PrismaClient, actor: AuthUser, raw: unknown) {
  const input = parseInput(amendCaseInput, raw);
  return prisma.$transaction(async (tx) => {
    const kase = await lockCase(tx, input.caseId);
    if (input.expectedReportVersion !== kase.reportVersion) {
      throw conflict(
        `Case ${kase.accession}'s report is now version ${kase.reportVersion}, not version ${input.expectedReportVersion} as shown: reload, read the current report, then amend it if still needed; nothing changed`,
        { reportVersion: kase.reportVersion, expectedReportVersion: input.expectedReportVersion },
      );
    }
    // One amendment at a time: a second would record a second reason the next signature never shows.
    if (isAmendmentOpen(kase)) {
      throw conflict(`Case ${kase.accession} is already being amended (version ${kase.reportVersion + 1}, status ${kase.status}): continue that amendment`);
    }
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
