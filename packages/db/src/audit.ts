import type { PrismaClient } from "./client.ts";
import { type AnchorFileReading, type FiledAuditAnchor, readAnchorFile } from "./auditAnchorFile.ts";

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

/** The first anchored event that is gone or changed: its seq, and what to say about it. */
interface LostAnchor {
  seq: bigint;
  problem: string;
}

/**
 * The chain alone cannot see its newest events deleted: what is left still links up. Each
 * signature holds the chain head at its signing (content.auditAnchor, append-only beside it),
 * so every anchored event must still be there with the same hash. One query over the
 * signatures, whatever the length of the trail.
 */
async function lostSignatureAnchor(prisma: PrismaClient): Promise<LostAnchor | null> {
  const [lost] = await prisma.$queryRaw<{ seq: bigint; accession: string; version: number }[]>`
    SELECT (s.content->'auditAnchor'->>'seq')::bigint AS seq, c.accession, s.version
    FROM sign_off s
    JOIN "case" c ON c.id = s."caseId"
    LEFT JOIN audit_event a ON a.seq = (s.content->'auditAnchor'->>'seq')::bigint
    WHERE s.content->'auditAnchor'->>'seq' IS NOT NULL
      AND (a.seq IS NULL OR a.hash IS DISTINCT FROM s.content->'auditAnchor'->>'hash')
    ORDER BY 1
    LIMIT 1`;
  if (!lost) return null;
  return {
    seq: lost.seq,
    problem: `event #${lost.seq}, anchored by the signature of case ${lost.accession} (version ${lost.version}), is missing or altered: events were removed from the end of the trail or rewritten`,
  };
}

/**
 * The signatures' anchors live in the database, so its owner can rewrite them with the trail.
 * The anchor file's cannot be (where it is kept out of that owner's reach): each anchored event
 * must still be there with the same hash. One query, the anchors passed as two arrays. Measured
 * at a year of anchors every 10 minutes (52,560 lines, 8.4 MB): ~0.3 s a check with the file's
 * reading, against ~2 ms for a quick check without it (2-core machine, busy training).
 */
async function lostFiledAnchor(prisma: PrismaClient, anchors: readonly FiledAuditAnchor[]): Promise<LostAnchor | null> {
  if (!anchors.length) return null;
  const [lost] = await prisma.$queryRaw<{ seq: bigint; i: bigint; present: boolean; lastSeq: bigint | null }[]>`
    SELECT x.seq, x.i, a.seq IS NOT NULL AS present, (SELECT max(seq) FROM audit_event) AS "lastSeq"
    FROM unnest(${anchors.map((a) => a.seq.toString())}::text[]::bigint[], ${anchors.map((a) => a.hash)}::text[])
      WITH ORDINALITY AS x(seq, hash, i)
    LEFT JOIN audit_event a ON a.seq = x.seq
    WHERE a.hash IS DISTINCT FROM x.hash
    ORDER BY x.seq, x.i
    LIMIT 1`;
  if (!lost) return null;
  const anchor = anchors[Number(lost.i) - 1];
  const where = `event #${lost.seq}, anchored outside the database at ${anchor?.writtenAt.toISOString() ?? "?"}`;
  const last = lost.lastSeq ?? 0n;
  if (!lost.present && lost.seq > last) {
    // The first event that is gone is the one after what is left.
    return {
      seq: last + 1n,
      problem: `${where}, is missing: the trail ends at event #${last}, so events were removed from its end (or the database was restored from a backup older than the anchor)`,
    };
  }
  return {
    seq: lost.seq,
    problem: `${where}, is missing or altered: its hash is not the one anchored, so the trail was rewritten (and re-chained) up to it`,
  };
}

async function withAnchorsChecked(
  prisma: PrismaClient,
  status: AuditChainStatus,
  filed: readonly FiledAuditAnchor[] = [],
): Promise<AuditChainStatus> {
  if (!status.ok) return status;
  const lost = (await Promise.all([lostSignatureAnchor(prisma), lostFiledAnchor(prisma, filed)]))
    .filter((l): l is LostAnchor => l !== null)
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))[0];
  if (!lost) return status;
  return {
    ok: false,
    checked: Math.min(status.checked, Number(lost.seq) - 1),
    firstBrokenSeq: Number(lost.seq),
    problem: lost.problem,
  };
}

/**
 * Re-hashes every event of the audit trail and checks the signatures' anchors; reports the first
 * broken link. The anchor file outside the database is checked by AuditChainVerifier (anchorFile).
 */
export async function verifyAuditChain(prisma: PrismaClient): Promise<AuditChainStatus> {
  return withAnchorsChecked(prisma, (await walkChain(prisma, null)).status);
}

export interface AuditVerification extends AuditChainStatus {
  /** This check re-hashed every event; when false, only those after `fullyVerifiedThrough`. */
  full: boolean;
  /** The newest event the last full walk verified, and when it ran; null before one has. */
  fullyVerifiedThrough: number | null;
  fullyVerifiedAt: Date | null;
  /**
   * Anchors from the anchor file whose events were checked: 0 without a file (a fresh install
   * before the worker's first write, or none configured), which an auditor should see as such.
   */
  externalAnchorsChecked: number;
}

const NO_ANCHOR_FILE: AnchorFileReading = { anchors: [], problems: [], found: false };

/** What to say when the chain held but the anchor file has lines that are not anchors. */
function anchorFileProblem(problems: readonly string[]): string | null {
  const [first] = problems;
  if (!first) return null;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `${first}${more}: something other than the worker's appends changed the file, and an anchor there may have been erased`;
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
 *
 * With `anchorFile`, every check also checks the chain heads copied there (auditAnchorFile.ts).
 * A problem with the file itself (an unreadable line) fails the verdict but is not kept as a
 * break: the file is read again on every check, so it is reported for as long as it lasts.
 */
export class AuditChainVerifier {
  private lastFull: { head: AuditCheckpoint; at: Date } | null = null;
  private broken: AuditVerification | null = null;
  /** The walk under way: callers meanwhile share it (a full one answers a quick request too). */
  private walking: { full: boolean; verdict: Promise<AuditVerification> } | null = null;

  constructor(
    private readonly fullEveryMs = 60 * 60 * 1000,
    private readonly anchorFile: string | null = null,
  ) {}

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
    const [{ status: chain, head }, file] = await Promise.all([
      walkChain(prisma, quick ? lastFull.head : null),
      this.anchorFile ? readAnchorFile(this.anchorFile) : NO_ANCHOR_FILE,
    ]);
    const status = await withAnchorsChecked(prisma, chain, file.anchors);
    const fileProblem = status.ok ? anchorFileProblem(file.problems) : null;
    const verdict: AuditVerification = {
      ...status,
      ...(fileProblem ? { ok: false, problem: fileProblem } : {}),
      full: !quick,
      fullyVerifiedThrough: quick ? lastFull.head.seq : status.checked,
      fullyVerifiedAt: quick ? lastFull.at : startedAt,
      externalAnchorsChecked: chain.ok ? file.anchors.length : 0,
    };
    if (!status.ok) this.broken ??= verdict;
    else if (!quick) this.lastFull = head ? { head, at: startedAt } : null;
    return this.broken ?? verdict;
  }
}
