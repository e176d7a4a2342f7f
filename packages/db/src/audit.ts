import type { PrismaClient } from "./client.ts";

export interface AuditChainStatus {
  ok: boolean;
  /** Events verified before the first broken link (all of them when ok). */
  checked: number;
  firstBrokenSeq: number | null;
  problem: string | null;
}

/**
 * Recomputes the audit hash chain inside the database (the audit_verify() function of the
 * initial migration) and reports the first broken link. The hashing lives in SQL so that the
 * trigger that writes the chain and the check that reads it cannot drift apart.
 */
export async function verifyAuditChain(prisma: PrismaClient): Promise<AuditChainStatus> {
  const rows = await prisma.$queryRaw<
    { ok: boolean; checked: bigint; firstBrokenSeq: bigint | null; problem: string | null }[]
  >`SELECT * FROM audit_verify()`;
  const row = rows[0];
  if (!row) throw new Error("audit_verify() returned no row");
  return {
    ok: row.ok,
    checked: Number(row.checked),
    firstBrokenSeq: row.firstBrokenSeq === null ? null : Number(row.firstBrokenSeq),
    problem: row.problem,
  };
}
