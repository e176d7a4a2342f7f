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
// of every line above it as written, and the trail's head at the end of the export, and ends with
// an Ed25519 signature by the platform's export key (exportSigningKey.ts) over the line before it:
// anyone can recompute a sha256 for a rewritten copy, but only the platform can sign one.
import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

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

/**
 * A key's name, on the closing line, in the trail (audit.exportKey.register) and at GET
 * /audit/export-key: the SHA-256 (hex, all 64 digits: it is what ties a signature to the trail) of
 * the raw 32-byte Ed25519 public key (RFC 8032's encoding; the last 32 bytes of its SPKI DER).
 */
export function exportKeyFingerprint(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== "ed25519") throw new TypeError(`an audit export key is Ed25519, not ${publicKey.asymmetricKeyType ?? publicKey.type}`);
  const { x } = publicKey.export({ format: "jwk" });
  return createHash("sha256").update(Buffer.from(x!, "base64url")).digest("hex");
}

/**
 * The closing line signed: `<line>; sig=ed25519:<base64>; key=<fingerprint>`. What is signed is
 * the UTF-8 text of the line as written from its "#" up to, not including, "; sig=" (no line
 * break): the row count, the sha256 (through which every line above), the head and the evidence.
 */
export function signClosingLine(unsigned: string, privateKey: KeyObject, fingerprint: string): string {
  const signature = sign(null, Buffer.from(unsigned, "utf8"), privateKey).toString("base64");
  return `${unsigned}; sig=ed25519:${signature}; key=${fingerprint}`;
}

// Group 1 is the text the signature covers; an Ed25519 signature is 64 bytes, 88 base64 characters.
const CLOSING = /^(# rows=(\d+) complete; sha256=([0-9a-f]{64}); head=(?:#(\d+) ([0-9a-f]{64}|hash withheld)|none); ([^\r\n]*?))(?:; sig=ed25519:([A-Za-z0-9+/]{86}==); key=([0-9a-f]{64}))?\r\n$/;

/**
 * The evidence after the head, as auditCsv.ts writes it: the filter is the query string of the
 * filters given (URL-encoded: no space or ";"), or "none"; a login holds no space.
 */
const EVIDENCE = /^RCMNet audit export; exported \S+ by \S+; filter (\S+); /;

/** The first event's prevHash (audit_event_chain()): the trail starts at event #1. */
const GENESIS = "0".repeat(64);

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
  /** Rows without hashes (an export redacted for the reader's role, whose head's hash is withheld): nothing to recompute. */
  withheld: number;
  /** Pairs of consecutive events (seq n, n + 1) whose link (prevHash) was checked. */
  linked: number;
  /** The trail's head, the newest event the export covers, as the closing line states it (hash null when withheld). */
  head: { seq: string; hash: string | null } | null;
  /** The closing line says no filter was given: the rows must be every event from #1 to the head. */
  unfiltered: boolean;
  /**
   * The closing line's signature: the fingerprint of the key it names, and whether it verified by
   * the key given (null: no key given, not checked). Null: the line carries none (an export from
   * before exports were signed, or one whose signature was cut off).
   */
  signature: { key: string; verified: boolean | null } | null;
  /**
   * The platform's verdict on the trail's chain as it exported the file (the closing line's
   * "chain …": "intact; N events verified…", "BROKEN at event #N: …", "NOT VERIFIED: …"); null when
   * the line states none. Anything but intact is a problem: the file may be as exported, and
   * signed, while what it exports is not a trail the platform could vouch for.
   */
  chain: string | null;
  problems: string[];
}

export interface AuditCsvCheckOptions {
  /**
   * The platform's export key (GET /audit/export-key, or the audit.exportKey.register event): the
   * closing line must be signed by it, and the signature must verify.
   */
  publicKey?: KeyObject;
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
 * row's columns), the links between consecutive events and the stated head. Where the head's hash
 * is given (an unredacted export) every row must carry its hash and hashedText; where no filter
 * was given the rows must be every event from #1 to the head, none missing, so that the head's
 * hash vouches through the links for each of them. Without `publicKey` it cannot tell an export
 * rewritten whole (hashes, links and sha256 recomputed) from a genuine one; with the platform's
 * key the closing line's signature must verify, which no one without the private key can make
 * for a rewritten copy (or compare the head, or any row's hash, with the trail or the anchor file).
 */
export function checkAuditCsv(text: string, options: AuditCsvCheckOptions = {}): AuditCsvCheck {
  const result: AuditCsvCheck = { ok: false, rows: 0, rehashed: 0, withheld: 0, linked: 0, head: null, unfiltered: false, signature: null, chain: null, problems: [] };
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
  const [, signed, count, digest, headSeq, headHash, evidence, signature, signedBy] = closing;
  result.head = headSeq ? { seq: headSeq, hash: headHash === HEAD_HASH_WITHHELD ? null : headHash! } : null;
  const head = result.head && { seq: BigInt(result.head.seq), hash: result.head.hash };
  if (sha256(body) !== digest) problems.push("the lines above the closing line do not match its sha256: the file was changed after the export");
  result.signature = signature ? { key: signedBy!, verified: null } : null;
  problems.push(...signatureProblems(signed!, signature ? { signature, key: signedBy! } : null, evidence!, options.publicKey, result));
  const filter = EVIDENCE.exec(evidence!)?.[1];
  if (filter === undefined) problems.push('the closing line does not say the export\'s filter ("RCMNet audit export; exported … by …; filter …; ")');
  result.unfiltered = filter === "none";
  result.chain = /; chain (.*); redacted /.exec(evidence!)?.[1] ?? null;
  if (result.chain === null) problems.push('the closing line does not say the chain\'s verdict at export ("; chain …; redacted …")');
  else if (!result.chain.startsWith("intact")) problems.push(`the platform did not find the trail's chain intact when it exported this file: ${result.chain}`);

  const [header, ...records] = parseCsv(body);
  if (header?.join(",") !== AUDIT_CSV_COLUMNS.join(",")) {
    problems.push(`the header is not ${AUDIT_CSV_COLUMNS.join(",")}`);
    return finish(result);
  }
  result.rows = records.length;
  if (String(records.length) !== count) problems.push(`the closing line says ${count} rows; the file has ${records.length}`);
  let previous: { seq: bigint; hash: string } | null = null;
  // The last row's seq: in an unfiltered export each row must be the event after it (#1 first).
  let last: bigint | null = null;
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
    if (last !== null && seq <= last) problems.push(`${where}: out of order (after event #${last})`);
    else if (result.unfiltered && seq !== (last ?? 0n) + 1n) problems.push(`${where}: ${missing((last ?? 0n) + 1n, seq - 1n)} missing from an unfiltered export`);
    if (head && seq > head.seq) problems.push(`${where}: after the head (event #${head.seq}) that the closing line states`);
    last = seq;
    if (!row.hash && !row.hashedText) {
      // An unredacted export has both on every row: a row without them is one blanked after the export.
      if (head?.hash) problems.push(`${where}: no hash or hashedText, in an export whose head's hash is given (every row of an unredacted export has both)`);
      result.withheld++;
      previous = null;
      continue;
    }
    if (head && !head.hash) problems.push(`${where}: a hash or hashedText, in an export whose hashes are withheld`);
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
    if (seq === 1n && row.prevHash !== GENESIS) problems.push(`${where}: the first event's prevHash is not 64 zeros`);
    if (previous && seq === previous.seq + 1n) {
      if (row.prevHash !== previous.hash) problems.push(`${where}: prevHash is not the hash of event #${previous.seq}`);
      else result.linked++;
    }
    if (result.head?.hash && row.seq === result.head.seq && row.hash !== result.head.hash) problems.push(`${where}: its hash is not the head's on the closing line`);
    previous = { seq, hash: row.hash };
  }
  if (result.unfiltered) {
    // Every event up to the head: the last row is the head, or rows at the end are missing.
    if (head && (last === null || last < head.seq)) problems.push(`the head (event #${head.seq}) is not the last row of an unfiltered export: ${missing((last ?? 0n) + 1n, head.seq)} missing`);
    if (!head && last !== null) problems.push("rows, though the closing line says the trail was empty (head=none)");
  }
  return finish(result);
}

/**
 * What is wrong with the closing line's signature: a malformed one always; with a key given, none
 * at all, one by another key, or one that does not verify (sets `verified`).
 */
function signatureProblems(signed: string, stated: { signature: string; key: string } | null, evidence: string, publicKey: KeyObject | undefined, result: AuditCsvCheck): string[] {
  // The evidence never holds "; sig=" (filters are URL-encoded): one there is a signature mangled.
  if (!stated && /; (sig|key)=/.test(evidence)) return ['the closing line\'s signature is not "; sig=ed25519:<base64>; key=<64 hex digits>" at its end'];
  if (!publicKey) return [];
  if (!stated) return ["the closing line carries no signature (sig=ed25519:…; key=…): an export from before exports were signed, or one whose signature was removed"];
  const expected = exportKeyFingerprint(publicKey);
  // Another key's signature may well verify by that key: the key must be the platform's.
  const verified = stated.key === expected && verify(null, Buffer.from(signed, "utf8"), publicKey, Buffer.from(stated.signature, "base64"));
  result.signature = { key: stated.key, verified };
  if (stated.key !== expected) return [`the closing line is signed by key ${stated.key}, not by the key given (${expected})`];
  return verified ? [] : ["the closing line's signature does not verify by the key given: the closing line, or through its sha256 the lines above it, changed after the export"];
}

/** "event #5 is" or "events #5-7 are". */
function missing(from: bigint, to: bigint): string {
  return from === to ? `event #${from} is` : `events #${from}-${to} are`;
}

function finish(result: AuditCsvCheck): AuditCsvCheck {
  result.ok = result.problems.length === 0;
  return result;
}
