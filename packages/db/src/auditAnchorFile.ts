// The audit chain's head copied outside the database (docs/decisions.md D2): a file of JSON lines
// that the job worker appends to (apps/api/src/jobs/anchorAuditHead.ts) and the verifier reads
// (audit.ts). Whoever owns the tables can rewrite the trail and recompute every hash, the
// signatures' anchors included; a head copied where that owner cannot write still shows it.
// The line format lives here so that the writer and the reader cannot drift apart.
import { readFile } from "node:fs/promises";

/** The chain head at one moment: event `seq`, its hash and time, and when the copy was made. */
export interface AuditAnchor {
  seq: bigint;
  hash: string;
  at: Date;
  writtenAt: Date;
}

/** An anchor as read back, with its line in the file (1-based) for the verdict. */
export interface FiledAuditAnchor extends AuditAnchor {
  line: number;
}

export interface AnchorFileReading {
  anchors: FiledAuditAnchor[];
  /** Lines that are not anchors (other than a torn write), or why the file could not be read. */
  problems: string[];
  /** False when there is no file: a fresh install has none until the worker first writes it. */
  found: boolean;
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
  const { seq, hash, at, writtenAt, afterTornLine } = value as Record<string, unknown>;
  if (typeof seq !== "string" || !SEQ.test(seq) || typeof hash !== "string" || !HASH.test(hash)) return null;
  if (typeof at !== "string" || typeof writtenAt !== "string") return null;
  const atDate = new Date(at);
  const writtenAtDate = new Date(writtenAt);
  if (Number.isNaN(atDate.getTime()) || Number.isNaN(writtenAtDate.getTime())) return null;
  return { seq: BigInt(seq), hash, at: atDate, writtenAt: writtenAtDate, afterTornLine: afterTornLine === true };
}

/**
 * A crash tears at most the line being written, the last one. So an unreadable line is ignored
 * only when it is the last and has no newline (the write may still be under way, or the next
 * one will close it), or when the line after it says it follows a torn line. Any other
 * unreadable line is a problem: something other than the writer changed the file.
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
      anchors.push({ seq: anchor.seq, hash: anchor.hash, at: anchor.at, writtenAt: anchor.writtenAt, line: i + 1 });
      return;
    }
    const lastAndTorn = i === lines.length - 1 && !complete;
    const closedAfterTear = parsed[i + 1]?.afterTornLine === true;
    if (!lastAndTorn && !closedAfterTear) problems.push(`line ${i + 1} of the anchor file is unreadable`);
  });
  return { anchors, problems };
}

/** Reads and parses the anchor file; a missing file is no problem (see `found`). */
export async function readAnchorFile(path: string): Promise<AnchorFileReading> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { anchors: [], problems: [], found: false };
    return { anchors: [], problems: [`the anchor file could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`], found: true };
  }
  return { ...parseAnchorFile(text), found: true };
}
