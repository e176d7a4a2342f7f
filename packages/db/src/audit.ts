import type { PrismaClient } from "./client.ts";

export interface AuditChainStatus {
  ok: boolean;
  /** Events verified before the first broken link (all of them when ok). */
  checked: number;
  firstBrokenSeq: number | null;
  problem: string | null;
}

/** An event a walk of the chain verified, to resume the next walk from. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
}

/**
 * Walks the chain with the database's audit_verify_from(): from `from` (which must still hold
 * its hash) or from the first event. The hashing lives in SQL so that the trigger that writes
 * the chain and the check that reads it cannot drift apart. `head` is the newest event walked,
 * when every link held.
 */
async function walkChain(
  prisma: PrismaClient,
  from: AuditCheckpoint | null,
): Promise<{ status: AuditChainStatus; head: AuditCheckpoint | null }> {
  const rows = await prisma.$queryRaw<
    { ok: boolean; checked: bigint; firstBrokenSeq: bigint | null; problem: string | null; lastHash: string | null }[]
  >`SELECT * FROM audit_verify_from(${from?.seq ?? 0}::bigint, ${from?.hash ?? "0".repeat(64)})`;
  const row = rows[0];
  if (!row) throw new Error("audit_verify_from() returned no row");
  const status: AuditChainStatus = {
    ok: row.ok,
    checked: Number(row.checked),
    firstBrokenSeq: row.firstBrokenSeq === null ? null : Number(row.firstBrokenSeq),
    problem: row.problem,
  };
  const head = status.ok && status.checked > 0 && row.lastHash ? { seq: status.checked, hash: row.lastHash } : null;
  return { status, head };
}

/**
 * The chain alone cannot see its newest events deleted: what is left still links up. Each
 * signature holds the chain head at its signing (content.auditAnchor, append-only beside it),
 * so every anchored event must still be there with the same hash. One query over the
 * signatures, whatever the length of the trail.
 */
async function withAnchorsChecked(prisma: PrismaClient, status: AuditChainStatus): Promise<AuditChainStatus> {
  if (!status.ok) return status;
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

/** Re-hashes every event of the audit trail and checks the signatures' anchors; reports the first broken link. */
export async function verifyAuditChain(prisma: PrismaClient): Promise<AuditChainStatus> {
  return withAnchorsChecked(prisma, (await walkChain(prisma, null)).status);
}

export interface AuditVerification extends AuditChainStatus {
  /** This check re-hashed every event; when false, only those after `fullyVerifiedThrough`. */
  full: boolean;
  /** The newest event the last full walk verified, and when it ran; null before one has. */
  fullyVerifiedThrough: number | null;
  fullyVerifiedAt: Date | null;
}

/**
 * Re-hashing the whole trail costs ~10 µs an event (PostgreSQL 15, one core): 10 s at a million
 * events, on every look at the audit page. This verifier walks it whole on its first check, on
 * request, and once `fullEveryMs` has passed since its last full walk; between those it resumes
 * from the newest event that walk verified, which must still hold its hash, and re-hashes every
 * event written since (at most `fullEveryMs` of writes). A row edited behind the triggers' back
 * before that point (only the tables' owner can) is then found by the next full walk, not at
 * once: the verdict says which kind of check it was and what the last full walk covered.
 * A break, once seen, is the answer to every later check until the process restarts: a rewrite
 * that re-chained the events after it consistently would pass a later walk.
 */
export class AuditChainVerifier {
  private lastFull: { head: AuditCheckpoint; at: Date } | null = null;
  private broken: AuditVerification | null = null;
  /** The walk under way: callers meanwhile share it (a full one answers a quick request too). */
  private walking: { full: boolean; verdict: Promise<AuditVerification> } | null = null;

  constructor(private readonly fullEveryMs = 60 * 60 * 1000) {}

  /**
   * Concurrent checks share one walk, so that many readers (or one reader's many requests) cost
   * the database one walk at a time, not one each.
   */
  verify(prisma: PrismaClient, { full = false } = {}): Promise<AuditVerification> {
    if (this.broken) return Promise.resolve(this.broken);
    const walking = this.walking;
    if (walking && (walking.full || !full)) return walking.verdict;
    const verdict = this.walk(prisma, full);
    const mine = { full, verdict };
    this.walking = mine;
    const done = () => {
      if (this.walking === mine) this.walking = null;
    };
    verdict.then(done, done);
    return verdict;
  }

  private async walk(prisma: PrismaClient, full: boolean): Promise<AuditVerification> {
    const lastFull = this.lastFull;
    const quick = !full && lastFull !== null && Date.now() - lastFull.at.getTime() < this.fullEveryMs;
    const startedAt = new Date();
    const { status: chain, head } = await walkChain(prisma, quick ? lastFull.head : null);
    const status = await withAnchorsChecked(prisma, chain);
    const verdict: AuditVerification = {
      ...status,
      full: !quick,
      fullyVerifiedThrough: quick ? lastFull.head.seq : status.checked,
      fullyVerifiedAt: quick ? lastFull.at : startedAt,
    };
    if (!status.ok) this.broken ??= verdict;
    else if (!quick) this.lastFull = head ? { head, at: startedAt } : null;
    return this.broken ?? verdict;
  }
}
