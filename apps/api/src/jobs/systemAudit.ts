// Audit events written by the worker: no actor user, logged as "system".
import type { Prisma } from "@rcmnet/db";
import { recordAudit, type AuditEntry } from "../audit/recordAudit.ts";

/** Writes the event inside the caller's transaction, so it commits with the change it describes. */
export function systemAudit(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  return recordAudit(tx, null, entry);
}
