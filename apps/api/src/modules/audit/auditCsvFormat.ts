// The audit CSV's format (auditCsv.ts writes it) and the check of a saved copy against itself,
// offline (scripts/verifyAuditCsv.ts; docs/api.md, "/audit.csv"). Node's crypto only: the check
// runs where neither the API nor its database is.
//
// Each event's hash is sha256 over the text the database builds for it (audit_event_hash() in
// prisma/migrations/20261125000000_init): jsonb_build_array(seq, prevHash, actorId, actorLogin,
// action, entityType, entityId, before, after, reason, at as YYYY-MM-DDTHH:MM:SS.ffffff)::text.
// An export for a reader who sees everything (AUDITOR) writes that text in `hashedText`, and
// `before`/`after` as the exact JSON text inside it (jsonb's: its key order and spacing, 1.10 kept
// as written), so that every row can be re-hashed from the file. The closing line carries a sha256
// of every line above it as written, and the trail's head at the end of the export.
import { createHash } from "node:crypto";

export const AUDIT_CSV_COLUMNS = ["seq", "at", "actorLogin", "actorId", "action", "entityType", "entityId", "reason", "before", "after", "prevHash", "hash", "hashedText"] as const;
export type AuditCsvColumn = (typeof AUDIT_CSV_COLUMNS)[number];

/** What stands in for the head's hash on the closing line of an export whose hashes are withheld. */
export const HEAD_HASH_WITHHELD = "hash withheld";

/** A value as text, a leading = + - @ (tab, CR) prefixed with ' so that spreadsheets do not run formulas. */
export function formulaSafe(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : value instanceof Date ? value.toISOString() : typeof value === "bigint" ? value.toString() : JSON.stringify(value);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** RFC 4180 quoting of formulaSafe's text. */
export function csvField(value: unknown): string {
  const s = formulaSafe(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The closing line's start, before the evidence: `rows=N complete; sha256=<hex>; head=#S <hash>` (or `head=none`). */
export function closingPrefix(rows: number, sha256: string, head: { seq: bigint; hash: string | null } | null): string {
  return `rows=${rows} complete; sha256=${sha256}; head=${head ? `#${head.seq} ${head.hash ?? HEAD_HASH_WITHHELD}` : "none"}`;
}

const CLOSING = /^# rows=(\d+) complete; sha256=([0-9a-f]{64}); head=(?:#(\d+) ([0-9a-f]{64}|hash withheld)|none); [^\r\n]*\r\n$/;

/** RFC 4180 records (fields unquoted); a record ends at a line break outside quotes. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}

export interface AuditCsvCheck {
  /** No problem found: the lines match the closing line's sha256, and every hash present was recomputed and linked. */
  ok: boolean;
  /** Data rows in the file. */
  rows: number;
  /** Rows whose hash was recomputed from hashedText (and hashedText checked against the row's columns). */
  rehashed: number;
  /** Rows without hashes (an export redacted for the reader's role): nothing to recompute. */
  withheld: number;
  /** Pairs of consecutive events (seq n, n + 1) whose link (prevHash) was checked. */
  linked: number;
  /** The trail's head at the end of the export, as the closing line states it (hash null when withheld). */
  head: { seq: string; hash: string | null } | null;
  problems: string[];
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** A field as written back to the value formulaSafe was given: JSON text never starts with ', so one is the prefix. */
const jsonText = (field: string) => (field.startsWith("'") ? field.slice(1) : field);

/** The scalar columns, by their index in the hashed array. */
const HASHED_SCALARS: readonly [AuditCsvColumn, number][] = [
  ["prevHash", 1],
  ["actorId", 2],
  ["actorLogin", 3],
  ["action", 4],
  ["entityType", 5],
  ["entityId", 6],
  ["reason", 9],
];

/** Why a row's columns are not what its hashedText says, or null where they are. */
function disagreement(row: Record<AuditCsvColumn, string>, hashed: unknown): string | null {
  if (!Array.isArray(hashed) || hashed.length !== 11) return "hashedText is not the 11 hashed fields";
  for (const [column, i] of HASHED_SCALARS) {
    const v = hashed[i];
    if ((v !== null && typeof v !== "string") || formulaSafe(v) !== row[column]) return `${column} differs from hashedText`;
  }
  const at = hashed[10];
  if (typeof at !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/.test(at) || `${at.slice(0, 23)}Z` !== row.at) return "at differs from hashedText";
  // The whole text again, from the row's own seq, before and after (the exact JSON texts) and
  // the scalars just compared: before and after must be, character for character, what was hashed.
  const json = (v: unknown) => (v === null ? "null" : JSON.stringify(v));
  const rebuilt = `[${[row.seq, ...[1, 2, 3, 4, 5, 6].map((i) => json(hashed[i])), jsonText(row.before) || "null", jsonText(row.after) || "null", json(hashed[9]), json(at)].join(", ")}]`;
  if (rebuilt !== row.hashedText) return "seq, before or after differs from hashedText";
  return null;
}

/**
 * Checks a saved audit export against itself: the closing line's sha256 over the lines above it,
 * the row count, each row's hash recomputed from its hashedText (and hashedText against the
 * row's columns), the links between consecutive events and the stated head. It cannot tell an
 * export rewritten whole (hashes, links and sha256 recomputed) from a genuine one: compare the
 * head, or any row's hash, with the trail (auditTrail, verifyAuditTrail) or the anchor file.
 */
export function checkAuditCsv(text: string): AuditCsvCheck {
  const result: AuditCsvCheck = { ok: false, rows: 0, rehashed: 0, withheld: 0, linked: 0, head: null, problems: [] };
  const problems = result.problems;
  const at = text.lastIndexOf("\n# rows=");
  if (at < 0) {
    problems.push('no closing "# rows=N complete; sha256=…" line: the export was cut short, or is from before the sha256 was written');
    return result;
  }
  const body = text.slice(0, at + 1);
  const closing = CLOSING.exec(text.slice(at + 1));
  if (!closing) {
    problems.push("the closing line is not one an export writes (or text follows it)");
    return result;
  }
  const [, count, digest, headSeq, headHash] = closing;
  result.head = headSeq ? { seq: headSeq, hash: headHash === HEAD_HASH_WITHHELD ? null : headHash! } : null;
  if (sha256(body) !== digest) problems.push("the lines above the closing line do not match its sha256: the file was changed after the export");

  const [header, ...records] = parseCsv(body);
  if (header?.join(",") !== AUDIT_CSV_COLUMNS.join(",")) {
    problems.push(`the header is not ${AUDIT_CSV_COLUMNS.join(",")}`);
    return finish(result);
  }
  result.rows = records.length;
  if (String(records.length) !== count) problems.push(`the closing line says ${count} rows; the file has ${records.length}`);
  let previous: { seq: bigint; hash: string } | null = null;
  for (const [n, fields] of records.entries()) {
    const row = Object.fromEntries(AUDIT_CSV_COLUMNS.map((c, i) => [c, fields[i] ?? ""])) as Record<AuditCsvColumn, string>;
    const where = /^\d{1,19}$/.test(row.seq) ? `event #${row.seq}` : `row ${n + 1}`;
    if (fields.length !== AUDIT_CSV_COLUMNS.length) {
      problems.push(`${where}: ${fields.length} fields, not ${AUDIT_CSV_COLUMNS.length}`);
      continue;
    }
    if (!/^\d{1,19}$/.test(row.seq)) {
      problems.push(`${where}: seq is not a number`);
      continue;
    }
    const seq = BigInt(row.seq);
    if (previous && seq <= previous.seq) problems.push(`${where}: out of order (after event #${previous.seq})`);
    if (!row.hash && !row.hashedText) {
      result.withheld++;
      previous = null;
      continue;
    }
    let hashed: unknown;
    try {
      hashed = JSON.parse(row.hashedText);
    } catch {
      hashed = undefined;
    }
    if (!row.hashedText || sha256(row.hashedText) !== row.hash) problems.push(`${where}: its hash is not the sha256 of its hashedText`);
    else {
      const why = disagreement(row, hashed);
      if (why) problems.push(`${where}: ${why}`);
      else result.rehashed++;
    }
    if (previous && seq === previous.seq + 1n) {
      if (row.prevHash !== previous.hash) problems.push(`${where}: prevHash is not the hash of event #${previous.seq}`);
      else result.linked++;
    }
    if (result.head?.hash && row.seq === result.head.seq && row.hash !== result.head.hash) problems.push(`${where}: its hash is not the head's on the closing line`);
    previous = { seq, hash: row.hash };
  }
  return finish(result);
}

function finish(result: AuditCsvCheck): AuditCsvCheck {
  result.ok = result.problems.length === 0;
  return result;
}
