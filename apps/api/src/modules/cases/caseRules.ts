import type { Case, Prisma, Role } from "@rcmnet/db";
import { conflict, notFound } from "../../errors.ts";
import { isUuid } from "../../lib/pagination.ts";
import { z } from "zod";
import { PATIENT_REF_READERS } from "../../auth/roles.ts";
import { isAmendmentOpenStatus, isSignedStatus } from "./caseStatus.ts";

/** Signed cases are frozen (21 CFR 11.10(e)): changes go through amendCase first. */
export function isSigned(c: Pick<Case, "status">): boolean {
  return isSignedStatus(c.status);
}

/** See isAmendmentOpenStatus: IN_REVIEW, or ANALYZING while an image uploaded into the amendment is analysed. */
export function isAmendmentOpen(c: Pick<Case, "status" | "reportVersion">): boolean {
  return isAmendmentOpenStatus(c.status, c.reportVersion);
}

export function assertNotSigned(c: Pick<Case, "status" | "accession">): void {
  if (isSigned(c)) throw conflict(`Case ${c.accession} is signed out; amend it first`, { status: c.status });
}

/** Locks the case row for the rest of the transaction (serialises review/sign-off/amend/upload). */
export async function lockCase(tx: Prisma.TransactionClient, caseId: string): Promise<Case> {
  if (!isUuid(caseId)) throw notFound("Case");
  await tx.$executeRaw`SELECT 1 FROM "case" WHERE id = ${caseId}::uuid FOR UPDATE`;
  const row = await tx.case.findUnique({ where: { id: caseId } });
  if (!row) throw notFound("Case");
  return row;
}

export function canSeePatientRef(role: Role | null | undefined): boolean {
  return Boolean(role && PATIENT_REF_READERS.includes(role));
}

export { CART_LABEL } from "./whiteCellDifferential.ts";
export const ARTIFACT = "artifact";
export const UNIDENTIFIED = "unidentified";

/**
 * The specimen, when it was drawn and the analyser's white-cell count (×10⁹/L). A collection time
 * in the future is a typo (the year), and would date the sample after its own report.
 */
export const specimenInput = {
  specimen: z.string().trim().max(50).transform((v) => v || null).nullish(),
  collectedAt: z
    .date()
    .refine((d) => d.getTime() <= Date.now() + 5 * 60_000, "collectedAt is in the future")
    .refine((d) => d.getUTCFullYear() >= 2000, "collectedAt is before 2000: check the year")
    .nullish(),
  wbcCount: z.number().positive("wbcCount must be above 0 (×10⁹/L)").max(1000, "wbcCount must be at most 1,000 ×10⁹/L").nullish(),
};

/**
 * A pseudonymous patient reference (study id, not a name): trimmed, and blank means none, so
 * blank cases are never taken for one patient when snapshots split by patient.
 */
export const patientRefInput = z
  .string()
  .trim()
  .max(100)
  .transform((v) => v || null)
  .nullish();
