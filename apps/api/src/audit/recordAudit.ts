// 21 CFR 11.10(e): every change is recorded with who, what, when, why, and the values before
// and after. Called by every mutation INSIDE its transaction, so a change and its audit event
// commit together or not at all. seq, prevHash and hash are assigned by a database trigger.
import type { Prisma } from "@rcmnet/db";
import type { AuthUser } from "../context.ts";

export interface AuditEntry {
  /** Dotted verb, e.g. "case.create", "cell.reclassify", "user.disable". */
  action: string;
  entityType: string;
  entityId: string;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
  reason?: string | null;
}

/** The trail's actor login for the platform's own actions; no account may take it (createUser, a CHECK). */
export const SYSTEM_LOGIN = "system";

/** `actor` null means the system (jobs, seeding): logged as SYSTEM_LOGIN. */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  actor: Pick<AuthUser, "id" | "login"> | null,
  entry: AuditEntry,
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      actorId: actor?.id ?? null,
      actorLogin: actor?.login ?? SYSTEM_LOGIN,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      ...(entry.before == null ? {} : { before: entry.before }),
      ...(entry.after == null ? {} : { after: entry.after }),
      reason: entry.reason ?? null,
    },
  });
}

/** Never in the trail: a password's hash, nor those of the passwords before it. */
const SECRETS = new Set(["passwordHash", "passwordHistory"]);

/** JSON-safe snapshot of a row for before/after (Dates to ISO strings, secrets dropped). */
export function auditSnapshot(row: Record<string, unknown>, omit: readonly string[] = []): Prisma.InputJsonObject {
  const out: Record<string, Prisma.InputJsonValue | null> = {};
  for (const [k, v] of Object.entries(row)) {
    if (omit.includes(k) || SECRETS.has(k)) continue;
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : typeof v === "bigint" ? v.toString() : (v as Prisma.InputJsonValue | null);
  }
  return out as Prisma.InputJsonObject;
}
