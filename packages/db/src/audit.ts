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
  const status: AuditChainStatus = {
    ok: row.ok,
    checked: Number(row.checked),
    firstBrokenSeq: row.firstBrokenSeq === null ? null : Number(row.firstBrokenSeq),
    problem: row.problem,
  };
  if (!status.ok) return status;
  // The chain alone cannot see its newest events deleted: what is left still links up. Each
  // signature holds the chain head at its signing (content.auditAnchor, append-only beside it),
  // so every anchored event must still be there with the same hash.
  const [lost] = await prisma.$queryRaw<{ seq: bigint; accession: string; version: number }[]>`
    SELECT (s.content->'auditAnchor'->>'seq')::bigint AS seq, c.accession, s.version
    FROM sign_off s
    JOIN "case" c ON c.id = s."caseId"
    LEFT JOIN audit_event a ON a.seq = (s.content->'auditAnchor'->>'seq')::bigint
    WHERE s.content->'auditAnchor'->>'seq' IS NOT NULL
      AND (a.seq IS NULL OR a.hash IS DISTINCT FROM s.content->'auditAnchor'->>'hash')
    ORDER BY 1
    LIMIT 1`;
  if (!lost) return status;
  return {
    ok: false,
    checked: Math.min(status.checked, Number(lost.seq) - 1),
    firstBrokenSeq: Number(lost.seq),
    problem: `event #${lost.seq}, anchored by the signature of case ${lost.accession} (version ${lost.version}), is missing or altered: events were removed from the end of the trail or rewritten`,
  };
}
