// The audit chain's head copied outside the database (docs/decisions.md D2): a file of JSON lines
// that the job worker appends to (apps/api/src/jobs/anchorAuditHead.ts) and the verifier reads
// (audit.ts). Whoever owns the tables can rewrite the trail and recompute every hash, the
// signatures' anchors included; a head copied where that owner cannot write still shows it.
// The line format lives here so that the writer and the reader cannot drift apart.
import { open } from "node:fs/promises";

/**
 * The audit event the worker writes when it starts an anchor file (apps/api/src/jobs/
 * anchorAuditHead.ts), `after: { path }`. Once this database has one, a missing anchor file is
 * an alarm, never a fresh start: the writer does not create it again and the verifier fails.
 */
export const ANCHOR_FILE_STARTED = "audit.anchorFileStarted";

/** How much of the file's end a quick check reads: ~300 lines, two days of lines every 10 minutes. */
export const ANCHOR_TAIL_BYTES = 64 * 1024;

/** How far apart a writer may declare its lines (RCMNET_AUDIT_ANCHOR_MINUTES, at most a day). */
export const MAX_ANCHOR_MINUTES = 24 * 60;

/**
 * The chain head at one moment: event `seq`, its hash and time, and when the copy was made.
 * The writer adds a line at every tick, also when the head has not moved (a heartbeat: the
 * previous line's seq, hash and at, its own writtenAt), so that the newest line's writtenAt shows
 * the writer alive by a clock the database's owner does not set. `everyMinutes` is the interval
 * it declares (its RCMNET_AUDIT_ANCHOR_MINUTES): the verifier judges the file's recency by it
 * rather than by its own setting; absent in lines from before such declarations.
 */
export interface AuditAnchor {
  seq: bigint;
  hash: string;
  at: Date;
  writtenAt: Date;
  everyMinutes?: number;
  /**
   * Written by a clean stop (the worker's last line before it exits): the verifier does not take
   * the writer's silence since as a stopped writer while no event follows the head it anchors.
   */
  stop?: boolean;
}

/** An anchor as read back, with its line in the file (1-based) for the verdict. */
export interface FiledAuditAnchor extends AuditAnchor {
  line: number;
}

/** Where a reading's complete lines ended, and the anchors among them: a later tail reading counts on from there. */
export interface AnchorFileEnd {
  bytes: number;
  lines: number;
  anchors: number;
  /** Distinct heads among those anchors (a heartbeat repeats the line before it), and the last one's `seq:hash`. */
  heads: number;
  lastHead: string | null;
}

export interface AnchorFileReading {
  /** The anchors read: every one of the file's, or only those in its tail (`whole` false). */
  anchors: FiledAuditAnchor[];
  /**
   * Lines that are not anchors (other than a torn write), or why the file could not be read.
   * Only a whole reading looks at every line; a tail reading reports no unreadable line.
   */
  problems: string[];
  /** False when there is no file: a fresh install has none until the worker first writes it. */
  found: boolean;
  whole: boolean;
  /** Anchors in the whole file: counted, or for a tail reading the earlier reading's count plus those after its end. */
  anchorCount: number;
  /** Distinct heads in the whole file (a line whose head differs from the anchor line before it), counted as anchorCount is. */
  headCount: number;
  end: AnchorFileEnd;
}

/**
 * One line of the file, newline included. seq is a string: it is a bigint, past what a JSON
 * number holds exactly. `afterTornLine` marks the first line written after a torn one (a crash
 * mid-write): the reader then knows the fragment before it is not an erased anchor.
 */
export function formatAnchorLine(anchor: AuditAnchor, { afterTornLine = false } = {}): string {
  return `${JSON.stringify({
    seq: anchor.seq.toString(),
    hash: anchor.hash,
    at: anchor.at.toISOString(),
    writtenAt: anchor.writtenAt.toISOString(),
    ...(anchor.everyMinutes === undefined ? {} : { everyMinutes: anchor.everyMinutes }),
    ...(anchor.stop ? { stop: true } : {}),
    ...(afterTornLine ? { afterTornLine: true } : {}),
  })}\n`;
}

const SEQ = /^[1-9][0-9]{0,18}$/;
const HASH = /^[0-9a-f]{64}$/;

/** The anchor a line holds (without its newline), or null if it holds none. */
export function parseAnchorLine(text: string): (AuditAnchor & { afterTornLine: boolean }) | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { seq, hash, at, writtenAt, everyMinutes, stop, afterTornLine } = value as Record<string, unknown>;
  if (typeof seq !== "string" || !SEQ.test(seq) || typeof hash !== "string" || !HASH.test(hash)) return null;
  if (typeof at !== "string" || typeof writtenAt !== "string") return null;
  // A declared interval the writer could not have had (0 writes no lines) is not the writer's line.
  const declared = everyMinutes === undefined || (Number.isInteger(everyMinutes) && (everyMinutes as number) >= 1 && (everyMinutes as number) <= MAX_ANCHOR_MINUTES);
  if (!declared || (stop !== undefined && stop !== true)) return null;
  const atDate = new Date(at);
  const writtenAtDate = new Date(writtenAt);
  if (Number.isNaN(atDate.getTime()) || Number.isNaN(writtenAtDate.getTime())) return null;
  return {
    seq: BigInt(seq),
    hash,
    at: atDate,
    writtenAt: writtenAtDate,
    ...(everyMinutes === undefined ? {} : { everyMinutes: everyMinutes as number }),
    ...(stop === true ? { stop: true } : {}),
    afterTornLine: afterTornLine === true,
  };
}

/** A line's anchor as filed: without the reader's afterTornLine, with its line number. */
function filed(anchor: AuditAnchor & { afterTornLine: boolean }, line: number): FiledAuditAnchor {
  const { afterTornLine: _, ...rest } = anchor;
  return { ...rest, line };
}

/**
 * A crash tears at most the line being written, the last one. So an unreadable line is ignored
 * only when it is the last and has no newline (the write may still be under way, or the next
 * one will close it), or when the line after it says it follows a torn line. Any other
 * unreadable line is a problem: something other than the writer changed the file. Lines that
 * repeat a head (heartbeats) are anchors like any other, not a problem.
 */
export function parseAnchorFile(text: string): Pick<AnchorFileReading, "anchors" | "problems"> {
  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  if (complete) lines.pop();
  const parsed = lines.map(parseAnchorLine);
  const anchors: FiledAuditAnchor[] = [];
  const problems: string[] = [];
  parsed.forEach((anchor, i) => {
    if (anchor) {
      anchors.push(filed(anchor, i + 1));
      return;
    }
    const lastAndTorn = i === lines.length - 1 && !complete;
    const closedAfterTear = parsed[i + 1]?.afterTornLine === true;
    if (!lastAndTorn && !closedAfterTear) problems.push(`line ${i + 1} of the anchor file is unreadable`);
  });
  return { anchors, problems };
}

const NEWLINE = 0x0a;

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE, from); i !== -1 && i < to; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

const NOTHING: AnchorFileEnd = { bytes: 0, lines: 0, anchors: 0, heads: 0, lastHead: null };

const headKey = (a: AuditAnchor): string => `${a.seq}:${a.hash}`;

/** Heads among `anchors` (in file order), each line counted whose head differs from the line before it (`lastHead` before the first). */
function countHeads(anchors: readonly AuditAnchor[], lastHead: string | null): { heads: number; lastHead: string | null } {
  let heads = 0;
  let previous = lastHead;
  for (const a of anchors) {
    const key = headKey(a);
    if (key !== previous) heads++;
    previous = key;
  }
  return { heads, lastHead: previous };
}

function wholeReading(buf: Buffer): AnchorFileReading {
  const { anchors, problems } = parseAnchorFile(buf.toString("utf8"));
  const lines = countNewlines(buf, 0, buf.length);
  const closed = anchors.filter((a) => a.line <= lines);
  const end = { bytes: buf.lastIndexOf(NEWLINE) + 1, lines, anchors: closed.length, ...countHeads(closed, null) };
  return { anchors, problems, found: true, whole: true, anchorCount: anchors.length, headCount: countHeads(anchors, null).heads, end };
}

/**
 * The anchors in the last `tailBytes` of the file, and those written since `after` (an earlier
 * reading's end, which must lie within the file), to count the file's anchors without reading
 * it whole. A file rewritten to another of at least the same size is not seen here; a whole
 * reading (full walks) counts it again.
 */
function tailReading(buf: Buffer, from: number, after: AnchorFileEnd): AnchorFileReading {
  // Reading from before `after`, the first line may be cut: dropped.
  const skip = from > 0 && from < after.bytes ? buf.indexOf(NEWLINE) + 1 : 0;
  let line = after.lines - countNewlines(buf, skip, after.bytes - from);
  const parts = buf.subarray(skip).toString("utf8").split("\n");
  const rest = parts.pop() ?? ""; // after the last newline: "" or a line not yet (or never) closed
  const anchors: FiledAuditAnchor[] = [];
  const added: FiledAuditAnchor[] = [];
  for (const text of parts) {
    line++;
    const anchor = parseAnchorLine(text);
    if (!anchor) continue;
    anchors.push(filed(anchor, line));
    if (line > after.lines) added.push(filed(anchor, line));
  }
  const open = rest ? parseAnchorLine(rest) : null;
  if (open) anchors.push(filed(open, line + 1));
  const lastNewline = buf.lastIndexOf(NEWLINE);
  const counted = countHeads(added, after.lastHead);
  const end = {
    bytes: lastNewline >= skip ? from + lastNewline + 1 : after.bytes,
    lines: line,
    anchors: after.anchors + added.length,
    heads: after.heads + counted.heads,
    lastHead: counted.lastHead,
  };
  const openHead = open && headKey(open) !== counted.lastHead ? 1 : 0;
  return { anchors, problems: [], found: true, whole: false, anchorCount: end.anchors + (open ? 1 : 0), headCount: end.heads + openHead, end };
}

/**
 * Reads and parses the anchor file; a missing file is `found: false` (what that means is the
 * verifier's call: audit.ts). Whole, unless `after` (an earlier reading's end) is given and the
 * file still reaches it: then only its last `tailBytes`, and anything written since `after`.
 */
export async function readAnchorFile(
  path: string,
  { after = null, tailBytes = ANCHOR_TAIL_BYTES }: { after?: AnchorFileEnd | null; tailBytes?: number } = {},
): Promise<AnchorFileReading> {
  const failed = (err: unknown): AnchorFileReading => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { anchors: [], problems: [], found: false, whole: true, anchorCount: 0, headCount: 0, end: NOTHING };
    return { anchors: [], problems: [`the anchor file could not be read (${code ?? String(err)})`], found: true, whole: true, anchorCount: 0, headCount: 0, end: NOTHING };
  };
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (err) {
    return failed(err);
  }
  try {
    const { size } = await file.stat();
    const from = after && size >= after.bytes ? Math.max(0, Math.min(after.bytes, size - tailBytes)) : 0;
    const buf = Buffer.alloc(size - from);
    let read = 0;
    while (read < buf.length) {
      const { bytesRead } = await file.read(buf, read, buf.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const bytes = buf.subarray(0, read);
    return after && size >= after.bytes ? tailReading(bytes, from, after) : wholeReading(bytes);
  } catch (err) {
    return failed(err);
  } finally {
    await file.close();
  }
}
