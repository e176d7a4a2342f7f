import { resolve } from "node:path";
import type { PrismaClient } from "./client.ts";
import { ANCHOR_FILE_STARTED, type AnchorFileEnd, type AnchorFileReading, type FiledAuditAnchor, readAnchorFile } from "./auditAnchorFile.ts";

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
 * The first line of each head: heartbeats repeat a head at every tick (~150 lines a day), and
 * one comparison per head is enough. A seq filed with two hashes keeps both.
 */
function distinctHeads(anchors: readonly FiledAuditAnchor[]): FiledAuditAnchor[] {
  const seen = new Set<string>();
  return anchors.filter((a) => {
    const key = `${a.seq}:${a.hash}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The signatures' anchors live in the database, so its owner can rewrite them with the trail.
 * The anchor file's cannot be (where it is kept out of that owner's reach): each anchored event
 * must still be there with the same hash. One query, the anchors passed as two arrays.
 */
async function lostFiledAnchor(prisma: PrismaClient, filed: readonly FiledAuditAnchor[]): Promise<LostAnchor | null> {
  const anchors = distinctHeads(filed);
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
 * Re-hashes every event of the audit trail and checks the signatures' anchors, and `filed` (anchors
 * read from an anchor file); reports the first broken link. AuditChainVerifier reads the anchor
 * file itself (anchorFile), and checks the file's own state too.
 */
export async function verifyAuditChain(prisma: PrismaClient, filed: readonly FiledAuditAnchor[] = []): Promise<AuditChainStatus> {
  return withAnchorsChecked(prisma, (await walkChain(prisma, null)).status, filed);
}

/** RCMNET_AUDIT_ANCHOR_MINUTES unless set: how often the workers copy the chain head out. */
export const DEFAULT_ANCHOR_MINUTES = 10;

/**
 * How long an event may wait for the anchor that covers it, and the file for its next line,
 * before anchoring counts as stopped: two intervals (a write that outlasted one interval skips
 * the next tick) plus 5 minutes (the tick's own query and fsync, clocks). 25 minutes at the
 * default. Null with anchoring off (0).
 */
export function anchorGraceMinutes(anchorMinutes: number): number | null {
  return anchorMinutes > 0 ? 2 * anchorMinutes + 5 : null;
}

/**
 * Whether anchoring is alive. The file's anchors only vouch for the events up to the newest one:
 * a worker whose writes fail (EACCES, a full disk) or that is not running leaves every later
 * event to the chain alone, which the tables' owner can rewrite and re-chain. Two signs, either
 * of which fails the verdict: the file's newest line is older than the grace period by the
 * checking host's clock (the writer adds a line at every tick, a heartbeat when the head has not
 * moved, so this needs nothing the database says: an owner who moves the unanchored events' `at`
 * forward, or deletes them, does not hide a stopped writer); and the first event after the
 * newest anchor is older than the grace period by the database's clock (a writer that runs but
 * cannot anchor: its lines would stay on an old head).
 */
export interface AnchorRecency {
  /**
   * False with anchoring off (an interval of 0: no line declares one and this checker's setting
   * is 0) or no anchor file to check: nothing was checked. `problem` then says whether that is
   * wrong (the trail or the file shows anchoring was on).
   */
  checked: boolean;
  /**
   * The interval judged by: the one the file's newest line declares (its writer's
   * RCMNET_AUDIT_ANCHOR_MINUTES), else this checker's own setting; 0: off. Never longer than this
   * checker's setting when that is above 0 (intervalTooLong).
   */
  anchorMinutes: number;
  /** Whether anchorMinutes is declared by the file's newest line (false: this checker's setting, for a file without such lines). */
  intervalDeclared: boolean;
  /** How old the newest line and the first event after the newest anchor may be (anchorGraceMinutes); null when not checked. */
  graceMinutes: number | null;
  /** The newest anchor's event and when it was first written; null when there is none. */
  newestAnchoredSeq: bigint | null;
  newestAnchorWrittenAt: Date | null;
  /** When the file's newest line (an anchor, or a heartbeat of an unchanged head) was written, by its writer's clock; null with no line. */
  lastWrittenAt: Date | null;
  /** The first event after the newest anchor and its time; null when every event is anchored (or not checked). */
  unanchoredFromSeq: bigint | null;
  unanchoredSince: Date | null;
  /** The trail's head, the last of the unanchored events; null when every event is anchored. */
  unanchoredToSeq: bigint | null;
  /**
   * The file's newest line is a clean stop's (`stop`) and no event follows the newest anchor: the
   * writer's silence since is a stopped platform, not a failed writer (writerSilent stays false).
   */
  stoppedCleanly: boolean;
  /** lastWrittenAt is more than graceMinutes before the check (this host's clock) or the restore point: no writer has written since. */
  writerSilent: boolean;
  /**
   * lastWrittenAt is more than MAX_CLOCK_AHEAD_MINUTES after this check by this host's clock: the
   * writer's clock and this host's are out of sync, and a line from the future would keep
   * writerSilent false for as long as it is ahead. Fails the verdict.
   */
  writtenInFuture: boolean;
  /**
   * The newest line declares a longer interval than this checker's own setting (above 0): judged
   * by this checker's setting instead, and the verdict fails, rather than a line widening the
   * grace period it is judged by.
   */
  intervalTooLong: boolean;
  /** unanchoredSince is more than graceMinutes before the check (the database's clock) or the restore point. */
  eventsOverdue: boolean;
  /** Anchoring has stopped (writerSilent or eventsOverdue): the verdict fails. */
  overdue: boolean;
  /** Why the verdict fails, when overdue or when not checked although anchoring was on: what, since when, and what to check. */
  problem: string | null;
}

/**
 * How far the file's newest line may be ahead of the checking host's clock (the writer on another
 * host, clocks a little apart) before the clocks count as out of sync.
 */
export const MAX_CLOCK_AHEAD_MINUTES = 5;

const recencyNotChecked = (anchorMinutes: number, intervalDeclared = false): AnchorRecency => ({
  checked: false,
  anchorMinutes,
  intervalDeclared,
  graceMinutes: null,
  newestAnchoredSeq: null,
  newestAnchorWrittenAt: null,
  lastWrittenAt: null,
  unanchoredFromSeq: null,
  unanchoredSince: null,
  unanchoredToSeq: null,
  stoppedCleanly: false,
  writerSilent: false,
  writtenInFuture: false,
  intervalTooLong: false,
  eventsOverdue: false,
  overdue: false,
  problem: null,
});

/** The anchor of the highest seq (the newest: the worker only ever anchors a later head), its first line. */
function newestAnchor(anchors: readonly FiledAuditAnchor[]): FiledAuditAnchor | null {
  let newest: FiledAuditAnchor | null = null;
  for (const a of anchors) if (!newest || a.seq > newest.seq) newest = a;
  return newest;
}

/** The line written last (the file's order: a writer's clock may step back), among those written by `until` when given. */
function lastLine(lines: readonly FiledAuditAnchor[], until: Date | null): FiledAuditAnchor | null {
  let last: FiledAuditAnchor | null = null;
  for (const a of lines) if ((!until || a.writtenAt <= until) && (!last || a.line > last.line)) last = a;
  return last;
}

interface RecencyOptions {
  file: string;
  found: boolean;
  /** This checker's RCMNET_AUDIT_ANCHOR_MINUTES: the interval for a file whose newest line declares none. */
  anchorMinutes: number;
  /** A restore point to judge at (verify-audit --restored-to); else now, by this host's clock and the database's. */
  reference?: { at: Date; label: string } | null;
  /** Every line read, for the newest one (anchors past a restored head included); `anchors` unless given. */
  lines?: readonly FiledAuditAnchor[];
}

/**
 * Checks that the file's newest line is younger than the grace period by this host's clock (or
 * at `reference`), and that the first event after the newest anchor is, by the database's clock
 * (event times are the database's). One indexed query whatever the length of the trail or of
 * the unanchored run, and one more with anchoring off (whether the trail records a file).
 */
async function checkAnchorRecency(
  prisma: Pick<PrismaClient, "$queryRaw">,
  anchors: readonly FiledAuditAnchor[],
  { file, found, anchorMinutes, reference = null, lines = anchors }: RecencyOptions,
): Promise<AnchorRecency> {
  const last = lastLine(lines, reference?.at ?? null);
  // A line may narrow the interval judged by, never widen it past this checker's own setting: the
  // line's declaration is the writer's word, and it is unbounded by anything this side sets.
  const intervalTooLong = anchorMinutes > 0 && last?.everyMinutes !== undefined && last.everyMinutes > anchorMinutes;
  const intervalDeclared = last?.everyMinutes !== undefined && !intervalTooLong;
  const minutes = intervalTooLong ? anchorMinutes : (last?.everyMinutes ?? anchorMinutes);
  const graceMinutes = anchorGraceMinutes(minutes);
  if (graceMinutes === null) {
    // Off here, but on where the file was written: a checker that does not check would pass a
    // stopped writer for ever. Said, and the verdict fails, until it is given the workers' value.
    const started = last ? null : await anchorFileStarted(prisma);
    if (!last && !started) return recencyNotChecked(minutes);
    const on = last
      ? `${file} holds anchors (the newest line written ${last.writtenAt.toISOString()}, declaring no interval)`
      : `the trail records anchoring to ${started?.path ?? "a file"} since event #${started?.seq} (${started?.at.toISOString()})`;
    return {
      ...recencyNotChecked(minutes),
      problem:
        `RCMNET_AUDIT_ANCHOR_MINUTES is 0 for this check (anchoring off), but ${on}: whether anchoring has stopped is not checked. ` +
        "Give this check the workers' RCMNET_AUDIT_ANCHOR_MINUTES",
    };
  }
  const newest = newestAnchor(anchors);
  const [row] = await prisma.$queryRaw<{ now: Date; seq: bigint | null; at: Date | null; head: bigint | null }[]>`
    SELECT now() AS now, e.seq, e.at, (SELECT max(seq) FROM audit_event) AS head
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT seq, at FROM audit_event WHERE seq > ${newest?.seq ?? 0n}::bigint ORDER BY seq LIMIT 1) e ON true`;
  const graceMs = graceMinutes * 60_000;
  // The newest line by this host's clock, never the database's: its owner sets that one.
  const hostNow = new Date();
  const unanchored =
    row?.seq && row.at ? { unanchoredFromSeq: row.seq, unanchoredSince: row.at, unanchoredToSeq: row.head ?? row.seq } : null;
  // A clean stop anchored everything: the platform stopped (verify-audit runs with it stopped),
  // the writer did not fail. An event after it is still judged, by eventsOverdue.
  const stoppedCleanly = last?.stop === true && unanchored === null;
  const writerSilent = last !== null && !stoppedCleanly && (reference?.at ?? hostNow).getTime() - last.writtenAt.getTime() > graceMs;
  // At a restore point the lines after it are left out (lastLine), so only a check now can see one.
  const writtenInFuture = !reference && last !== null && last.writtenAt.getTime() - hostNow.getTime() > MAX_CLOCK_AHEAD_MINUTES * 60_000;
  const eventsLate = unanchored !== null && (reference?.at ?? row?.now ?? hostNow).getTime() - unanchored.unanchoredSince.getTime() > graceMs;
  const recency: AnchorRecency = {
    ...recencyNotChecked(minutes, intervalDeclared),
    checked: true,
    graceMinutes,
    newestAnchoredSeq: newest?.seq ?? null,
    newestAnchorWrittenAt: newest?.writtenAt ?? null,
    lastWrittenAt: last?.writtenAt ?? null,
    ...unanchored,
    stoppedCleanly,
    writerSilent,
    writtenInFuture,
    intervalTooLong,
    eventsOverdue: eventsLate,
    overdue: writerSilent || eventsLate,
  };
  if (!recency.overdue && !writtenInFuture && !intervalTooLong) return recency;

  const findings: string[] = [];
  if (intervalTooLong && last) {
    findings.push(
      `the file's newest line declares anchors every ${last.everyMinutes} minutes, more than this check's RCMNET_AUDIT_ANCHOR_MINUTES (${anchorMinutes}): ` +
        `judged by ${anchorMinutes} minutes instead; give the workers and this check the same RCMNET_AUDIT_ANCHOR_MINUTES`,
    );
  }
  if (writtenInFuture && last) {
    findings.push(
      `the file's newest line (for event #${last.seq}) was written ${last.writtenAt.toISOString()}, in the future: clocks out of sync ` +
        `(more than ${MAX_CLOCK_AHEAD_MINUTES} minutes after this check, ${hostNow.toISOString()} by this host's clock); ` +
        "whether the writer has stopped cannot be told until the writer's host and this one keep the same time (NTP)",
    );
  }
  if (writerSilent && last) {
    findings.push(
      reference
        ? `nothing had been written to ${file} since ${last.writtenAt.toISOString()} (its newest line by ${reference.label}, for event #${last.seq}), ` +
            `more than ${graceMinutes} minutes before ${reference.label} (${reference.at.toISOString()})`
        : `nothing has been written to ${file} since ${last.writtenAt.toISOString()} (its newest line, for event #${last.seq}), ` +
            `more than ${graceMinutes} minutes before this check (${hostNow.toISOString()} by this host's clock)`,
    );
  }
  if (eventsLate && unanchored) {
    const { unanchoredFromSeq: from, unanchoredToSeq: to, unanchoredSince: at } = unanchored;
    const events = from === to ? `event #${from} is` : `events #${from}-#${to} are`;
    const since = newest
      ? `the newest anchor in ${file} is for event #${newest.seq} (written ${newest.writtenAt.toISOString()})`
      : found
        ? `${file} holds no anchor`
        : `there is no anchor file at ${file}`;
    const when = reference ? `before ${reference.label} (${reference.at.toISOString()})` : "ago";
    findings.push(`${events} not anchored outside the database: ${since}, and event #${from} dates from ${at.toISOString()}, more than ${graceMinutes} minutes ${when}`);
  }
  const due = `anchors are due every ${minutes} minutes (${intervalDeclared ? "as the file's newest line declares" : "RCMNET_AUDIT_ANCHOR_MINUTES"})`;
  if (!recency.overdue) return { ...recency, problem: `${findings.join("; and ")}; ${due}` };
  const problem = reference
    ? `${findings.join("; and ")}; ${due}. Anchoring had stopped by then, so the events since were vouched for by the chain alone, which ` +
      `the tables' owner can rewrite: look for "audit chain head not anchored" and "anchor file missing" in the workers' log of that time, ` +
      `and compare the log shipper's copy of the anchors. For a backup copied with the platform stopped, give the time it stopped ` +
      `(the file's last line written before the copy) as the restore point`
    : `${findings.join("; and ")}; ${due}. Anchoring has stopped: check that a worker anchoring (RCMNET_AUDIT_ANCHOR_MINUTES above 0) is ` +
      `running, its log ("audit chain head not anchored", "anchor file missing"), and that it can write ${file} (permissions, free disk ` +
      `space); a worker just started writes its first line half a minute after its model backend has loaded (npm start writes one ` +
      `before it starts the API). Until then events written since can be rewritten or removed without trace`;
  return { ...recency, problem };
}

export interface AuditVerification extends AuditChainStatus {
  /** This check re-hashed every event; when false, only those after `fullyVerifiedThrough`. */
  full: boolean;
  /** The newest event the last full walk verified, and when it ran; null before one has. */
  fullyVerifiedThrough: number | null;
  fullyVerifiedAt: Date | null;
  /**
   * Distinct chain heads from the anchor file whose events were checked (a heartbeat repeating a
   * head is not another): 0 without a file (a fresh install before the worker's first write, or
   * none configured), which an auditor should see as such.
   */
  externalAnchorsChecked: number;
  /** The anchor file's lines behind externalAnchorsChecked, heartbeats included (0 likewise). */
  externalAnchorLines: number;
  /**
   * Whether anchoring is alive: the file's newest line, and the events after the newest anchor,
   * recent enough. Overdue fails the verdict (`ok` false, its `problem`), as a problem with the
   * file does, and so does a check left undone although anchoring was on (`problem`).
   */
  anchorRecency: AnchorRecency;
}

const NO_ANCHOR_FILE: AnchorFileReading = {
  anchors: [],
  problems: [],
  found: false,
  whole: true,
  anchorCount: 0,
  headCount: 0,
  end: { bytes: 0, lines: 0, anchors: 0, heads: 0, lastHead: null },
};

/** The most the anchor file was seen to hold (by this process), and when that was last raised. */
interface AnchorFileHighWater {
  anchors: number;
  highestSeq: bigint;
  at: Date;
}

/** The event that started the anchor file now written to, the newest (few rows: the action is indexed). */
export async function anchorFileStarted(prisma: Pick<PrismaClient, "$queryRaw">): Promise<{ seq: bigint; at: Date; path: string | null } | null> {
  const [started] = await prisma.$queryRaw<{ seq: bigint; at: Date; path: string | null }[]>`
    SELECT seq, at, after->>'path' AS path FROM audit_event WHERE action = ${ANCHOR_FILE_STARTED} ORDER BY seq DESC LIMIT 1`;
  return started ?? null;
}

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
 * A full walk reads the whole file and checks every anchor; a quick check reads only its tail
 * (ANCHOR_TAIL_BYTES) and checks the anchors there: the newest one at or below the head covers
 * every earlier event, the events being chained. Measured at a year of anchors every 10 minutes
 * (52,560 lines, 8.4 MB, one per event of a 52,560-event trail; median of 10 quick checks after a
 * full one; 2-core machine busy training, load ~4.7): a quick check took 310-350 ms when it read
 * and sent every anchor, 6-9 ms with the tail (3-6 ms with no file); a full walk, which still
 * reads and sends the whole file, 0.5-0.7 s at that size. With a heartbeat line at every tick,
 * that is the size every file reaches in a year (~9.5 MB); a full walk now sends one anchor per
 * head (distinctHeads), not one per line.
 * The file must not shrink or go: this verifier remembers the most anchors and the highest
 * anchored seq it has read, and a file that is gone, holds fewer anchors or a lower highest seq
 * fails the verdict, as does a missing file once the trail records one started
 * (ANCHOR_FILE_STARTED). Such a problem with the file itself (or an unreadable line) fails the
 * verdict but is not kept as a break: the file is read again, whole, on every check until it
 * passes, so it is reported for as long as it lasts; the high-water mark is kept.
 * Anchoring must be alive, too (checkAnchorRecency): when the file's newest line is older than
 * the grace period by this host's clock, or the first event after the newest anchor by the
 * database's, anchoring has stopped (a worker whose writes fail, or none running) and the
 * verdict fails the same way, until the workers write again. Events written in the last minutes
 * are expected unanchored and pass.
 */
export class AuditChainVerifier {
  private lastFull: { head: AuditCheckpoint; at: Date } | null = null;
  private broken: AuditVerification | null = null;
  /** The walk under way: callers meanwhile share it (a full one answers a quick request too). */
  private walking: { full: boolean; verdict: Promise<AuditVerification> } | null = null;
  /** The anchor file's high-water mark: its most anchors and highest seq seen by this process. */
  private fileMost: AnchorFileHighWater | null = null;
  /** Where the last reading that passed ended, for the next quick check's tail reading; null: read it whole. */
  private fileEnd: AnchorFileEnd | null = null;

  /**
   * `anchorMinutes`: how often the workers anchor (RCMNET_AUDIT_ANCHOR_MINUTES), for a file whose
   * newest line declares no interval (lines from before such declarations, or none yet); the
   * interval a line declares is the one judged by. 0, anchoring off: not checked, and the verdict
   * says so, failing where the file or the trail shows anchoring on.
   */
  constructor(
    private readonly fullEveryMs = 60 * 60 * 1000,
    private readonly anchorFile: string | null = null,
    private readonly anchorMinutes = DEFAULT_ANCHOR_MINUTES,
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
      this.anchorFile ? readAnchorFile(this.anchorFile, { after: quick ? this.fileEnd : null }) : NO_ANCHOR_FILE,
    ]);
    const status = await withAnchorsChecked(prisma, chain, file.anchors);
    const fileProblem = status.ok ? ((await this.anchorFileGone(prisma, file)) ?? anchorFileProblem(file.problems)) : null;
    this.fileEnd = file.found && !fileProblem ? file.end : null;
    const recency = await this.recencyOf(prisma, file);
    // Like a problem with the file, not kept as a break: it passes once the workers anchor again.
    const problem = fileProblem ?? (status.ok ? recency.problem : null);
    const verdict: AuditVerification = {
      ...status,
      ...(problem ? { ok: false, problem } : {}),
      full: !quick,
      fullyVerifiedThrough: quick ? lastFull.head.seq : status.checked,
      fullyVerifiedAt: quick ? lastFull.at : startedAt,
      // On a quick check the tail's anchors were queried and cover the earlier ones (chained).
      externalAnchorsChecked: chain.ok ? file.headCount : 0,
      externalAnchorLines: chain.ok ? file.anchorCount : 0,
      anchorRecency: recency,
    };
    if (!status.ok) this.broken ??= verdict;
    else if (!quick) this.lastFull = head ? { head, at: startedAt } : null;
    return this.broken ?? verdict;
  }

  /**
   * Only the recency of the anchors (the file's tail and one query, milliseconds): for a caller
   * answering a recent full walk's verdict again, whose chain part still holds but whose
   * recency is a matter of minutes.
   */
  async recency(prisma: PrismaClient): Promise<AnchorRecency> {
    if (!this.anchorFile) return recencyNotChecked(this.anchorMinutes);
    return this.recencyOf(prisma, await readAnchorFile(this.anchorFile, { after: this.fileEnd }));
  }

  private recencyOf(prisma: PrismaClient, file: AnchorFileReading): Promise<AnchorRecency> {
    if (!this.anchorFile) return Promise.resolve(recencyNotChecked(this.anchorMinutes));
    return checkAnchorRecency(prisma, file.anchors, { file: this.anchorFile, found: file.found, anchorMinutes: this.anchorMinutes });
  }

  /**
   * A file that is gone, or holds fewer anchors or a lower highest seq than this process has read
   * from it, was replaced, truncated or removed; no file at all, once the trail records one
   * started, is the same. Raises the high-water mark otherwise.
   */
  private async anchorFileGone(prisma: PrismaClient, file: AnchorFileReading): Promise<string | null> {
    if (!this.anchorFile) return null;
    const most = this.fileMost;
    let highestSeq = 0n; // bigints: no Math.max
    for (const a of file.anchors) if (a.seq > highestSeq) highestSeq = a.seq;
    if (most && (!file.found || file.anchorCount < most.anchors || highestSeq < most.highestSeq)) {
      const older = file.anchorCount > 0 && highestSeq < most.highestSeq ? `, the newest for event #${highestSeq}` : "";
      const now = file.found ? `now has ${file.anchorCount}${older}` : "now has none (no file)";
      return `the anchor file ${this.anchorFile} had ${most.anchors} anchor${most.anchors === 1 ? "" : "s"} (the newest for event #${most.highestSeq}) at ${most.at.toISOString()} and ${now}: it was replaced, truncated or removed`;
    }
    if (!file.found) {
      const started = await anchorFileStarted(prisma);
      if (!started) return null; // a fresh install, before the worker's first anchor
      return `the anchor file ${this.anchorFile} is missing, but the trail records anchoring to a file since event #${started.seq} (${started.path ?? "?"}, ${started.at.toISOString()}): it was removed, or its storage is not mounted, or RCMNET_AUDIT_ANCHOR_FILE names another file`;
    }
    if (file.problems.length) return null; // unreadable: reported as such, and no mark raised on it
    // The workers write where the trail says they last started; a checker reading another file
    // (RCMNET_AUDIT_ANCHOR_FILE differing between the API and the workers) would pass a frozen one.
    const started = await anchorFileStarted(prisma);
    if (started?.path && resolve(started.path) !== resolve(this.anchorFile)) {
      return `the anchor file checked is ${this.anchorFile}, but the trail records the workers anchoring to ${started.path} since event #${started.seq} (${started.at.toISOString()}): give the API and every worker the same RCMNET_AUDIT_ANCHOR_FILE`;
    }
    if (!most || file.anchorCount > most.anchors || highestSeq > most.highestSeq) {
      this.fileMost = {
        anchors: Math.max(file.anchorCount, most?.anchors ?? 0),
        highestSeq: highestSeq > (most?.highestSeq ?? 0n) ? highestSeq : (most?.highestSeq ?? 0n),
        at: new Date(),
      };
    }
    return null;
  }
}

export interface AnchorFileCheck {
  ok: boolean;
  /** The restored trail's newest event (max(seq) at the check), 0 for none. */
  head: bigint;
  /** The trail's own verdict, with the file's anchors at or below `head` checked. */
  chain: AuditChainStatus;
  /** Anchor lines at or below the head (heartbeats included), each checked against its event. */
  checked: number;
  /** Heads past the restored one (each one's first line): written after the backup, or removed since. */
  pastHead: FiledAuditAnchor[];
  /** Whether the events after the newest anchor at or below the head had been anchored in time (at the restore point, when given). */
  recency: AnchorRecency;
  problems: string[];
}

/**
 * Checks an anchor file that a database restored to an earlier point may not match whole
 * (docs/operations.md, Restore): every anchor at or below the restored head must match its
 * event, and the whole trail must verify. Anchors past the head are events written after the
 * backup, lost with the restore: listed, and a problem only where they cannot be told from events
 * removed off the trail's end, that is when `restoredTo` (the backup's time) is not given, or
 * when the event's time is at or before it (the backup should then hold it).
 * Anchoring must also have been alive (checkAnchorRecency): at `restoredTo` when given (when the
 * backup was taken), the file's newest line written by then and the first event after the newest
 * anchor at or below the head must be younger than the grace period; now otherwise. The interval
 * is the one the newest line declares, else `anchorMinutes` (0: not checked, a problem where the
 * file holds anchors or the trail records one started).
 */
export async function checkAnchorFile(
  prisma: PrismaClient,
  path: string,
  { restoredTo = null, anchorMinutes = DEFAULT_ANCHOR_MINUTES }: { restoredTo?: Date | null; anchorMinutes?: number } = {},
): Promise<AnchorFileCheck> {
  const file = await readAnchorFile(path);
  const [row] = await prisma.$queryRaw<{ head: bigint }[]>`SELECT coalesce(max(seq), 0)::bigint AS head FROM audit_event`;
  const head = row?.head ?? 0n;
  const within = file.anchors.filter((a) => a.seq <= head);
  // Each head past the restored one once (its first line), not once per heartbeat.
  const pastHead = distinctHeads(file.anchors.filter((a) => a.seq > head));
  const chain = await verifyAuditChain(prisma, within);
  const reference = restoredTo ? { at: restoredTo, label: "the restore point" } : null;
  const recency = await checkAnchorRecency(prisma, within, { file: path, found: file.found, anchorMinutes, reference, lines: file.anchors });
  const problems: string[] = [];
  if (!file.found) problems.push(`there is no anchor file at ${path}`);
  problems.push(...file.problems);
  if (!chain.ok && chain.problem) problems.push(chain.problem);
  if (pastHead.length && !restoredTo) {
    problems.push(
      `${pastHead.length} anchor(s) past the trail's head #${head}: events written after the backup, or removed from the trail's end; give the restore point (--restored-to) to tell them apart`,
    );
  }
  for (const a of restoredTo ? pastHead.filter((p) => p.at <= restoredTo) : []) {
    problems.push(`event #${a.seq} of ${a.at.toISOString()}, no later than the restore point, is anchored (line ${a.line}) but not in the restored database`);
  }
  if (recency.problem) problems.push(recency.problem);
  return { ok: problems.length === 0, head, chain, checked: within.length, pastHead, recency, problems };
}
