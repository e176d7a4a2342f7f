import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_CSV_COLUMNS, checkAuditCsv, closingPrefix, csvField, exportKeyFingerprint, parseCsv, signClosingLine } from "./auditCsvFormat.ts";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const sha256Bytes = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const ZERO = "0".repeat(64);

interface Event {
  seq: bigint;
  at: string;
  actorLogin: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  reason: string | null;
  /** As jsonb writes it (the database's text), or null. */
  before: string | null;
  after: string | null;
}

/** The text audit_event_hash() hashes, as jsonb writes it: ", " between elements, strings escaped as JSON. */
function hashedText(e: Event, prevHash: string): string {
  const s = (v: string | null) => (v === null ? "null" : JSON.stringify(v));
  return `[${[e.seq.toString(), s(prevHash), s(e.actorId), s(e.actorLogin), s(e.action), s(e.entityType), s(e.entityId), e.before ?? "null", e.after ?? "null", s(e.reason), s(`${e.at.slice(0, 23)}000`)].join(", ")}]`;
}

/**
 * An export of these events as auditCsv writes it for AUDITOR (or, redacted, for ADMIN), with its
 * filter's query string ("none" unless given), its closing line signed by `signedBy` (else unsigned).
 */
function exportOf(events: Event[], options: { redacted?: boolean; firstPrev?: string; filter?: string; signedBy?: KeyObject; chain?: string } = {}): string {
  let prev = options.firstPrev ?? ZERO;
  let body = `${AUDIT_CSV_COLUMNS.join(",")}\r\n`;
  let head: { seq: bigint; hash: string | null } | null = null;
  for (const e of events) {
    const text = hashedText(e, prev);
    const hash = sha256(text);
    const row = options.redacted
      ? { ...e, before: e.before && JSON.parse(e.before), after: e.after && JSON.parse(e.after), prevHash: null, hash: null, hashedText: null }
      : { ...e, prevHash: prev, hash, hashedText: text };
    body += `${AUDIT_CSV_COLUMNS.map((c) => csvField(row[c])).join(",")}\r\n`;
    head = { seq: e.seq, hash: options.redacted ? null : hash };
    prev = hash;
  }
  const closing = `# ${closingPrefix(events.length, sha256(body), head)}; RCMNet audit export; exported 2026-11-28T08:00:00.000Z by auditor; filter ${options.filter ?? "none"}; chain ${options.chain ?? "intact; 3 events verified"}; redacted none`;
  return `${body}${options.signedBy ? signClosingLine(closing, options.signedBy, exportKeyFingerprint(options.signedBy)) : closing}\r\n`;
}

const event = (seq: number, more: Partial<Event> = {}): Event => ({
  seq: BigInt(seq),
  at: `2026-11-28T07:0${seq}:00.120Z`,
  actorLogin: "tech",
  actorId: "7f0c3a52-5d0e-4a43-9d8e-0c6c1c2b9a11",
  action: "case.update",
  entityType: "Case",
  entityId: "c0a80101-0000-4000-8000-000000000001",
  reason: null,
  before: null,
  after: null,
  ...more,
});

const EVENTS: Event[] = [
  event(1, { action: "case.create", actorId: null, actorLogin: "system", after: '{"accession": "A-1", "priority": "ROUTINE"}' }),
  event(2, { before: '{"wbc": 1.10, "alpha": [100, -0.50]}', after: '{"b": "é \\"q\\"\\n", "a": null}', reason: '=SUM(A1), then "more"\r\nsecond line' }),
  event(3, { after: "-3", reason: "" }),
];

describe("parseCsv", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks, and empty fields", () => {
    expect(parseCsv('a,"b,""c""\r\nd",\r\n,x\r\n')).toEqual([
      ["a", 'b,"c"\r\nd', ""],
      ["", "x"],
    ]);
  });
});

describe("checkAuditCsv", () => {
  it("passes an export as written: every row re-hashed from its hashedText and columns, linked, the sha256 and the head", () => {
    const csv = exportOf(EVENTS);
    expect(checkAuditCsv(csv)).toEqual({ ok: true, rows: 3, rehashed: 3, withheld: 0, linked: 2, head: { seq: "3", hash: expect.stringMatching(/^[0-9a-f]{64}$/) }, unfiltered: true, signature: null, chain: "intact; 3 events verified", problems: [] });
    // The formula guard stays, and is told apart from the value.
    expect(csv).toContain(`"'=SUM(A1), then ""more""\r\nsecond line"`);
    expect(csv).toContain(",'-3,");
  });

  it("passes a filtered export (gaps between seqs: no link to check across them)", () => {
    const hash2 = sha256(hashedText(EVENTS[1]!, sha256(hashedText(EVENTS[0]!, ZERO))));
    const csv = exportOf([EVENTS[2]!], { firstPrev: hash2, filter: "action=case.update" });
    expect(checkAuditCsv(csv)).toMatchObject({ ok: true, rows: 1, rehashed: 1, linked: 0, unfiltered: false });
    // The same rows said to be unfiltered: events #1 and #2 are missing.
    const unfiltered = exportOf([EVENTS[2]!], { firstPrev: hash2 });
    expect(checkAuditCsv(unfiltered).problems).toEqual(["event #3: events #1-2 are missing from an unfiltered export"]);
    // A closing line that does not say its filter.
    expect(checkAuditCsv(csv.replace("; filter action=case.update;", ";")).problems).toEqual([expect.stringMatching(/^the closing line does not say the export's filter/)]);
  });

  it("fails a copy whose lines were changed, even where each row was re-hashed consistently", () => {
    const csv = exportOf(EVENTS);
    const forged = exportOf(EVENTS.map((e) => (e.seq === 2n ? { ...e, before: '{"wbc": 9.90, "alpha": [100, -0.50]}' } : e)));
    const body = forged.slice(0, forged.lastIndexOf("\n# rows=") + 1);
    const check = checkAuditCsv(body + csv.slice(csv.lastIndexOf("\n# rows=") + 1));
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([expect.stringMatching(/do not match its sha256/), expect.stringMatching(/^event #3: its hash is not the head's/)]);
  });

  it("names a row whose hash, hashedText, columns or link were changed (the sha256 recomputed)", () => {
    const csv = exportOf(EVENTS);
    const resealed = (edit: (body: string) => string) => {
      const at = csv.lastIndexOf("\n# rows=") + 1;
      const body = edit(csv.slice(0, at));
      return body + csv.slice(at).replace(/sha256=[0-9a-f]{64}/, `sha256=${sha256(body)}`);
    };
    expect(checkAuditCsv(resealed((b) => b.replace("1.10", "1.1"))).problems).toEqual(["event #2: seq, before or after differs from hashedText"]);
    expect(checkAuditCsv(resealed((b) => b.replaceAll("1.10", "1.1"))).problems).toEqual(["event #2: its hash is not the sha256 of its hashedText"]);
    expect(checkAuditCsv(resealed((b) => b.replace(",system,", ",admin,"))).problems).toEqual(["event #1: actorLogin differs from hashedText"]);
    expect(checkAuditCsv(resealed((b) => b.replace("2026-11-28T07:01:00.120Z", "2026-11-28T07:01:00.121Z"))).problems).toEqual(["event #1: at differs from hashedText"]);
    // Row 2 dropped: the count is wrong, and an unfiltered export lacks an event.
    const dropRow2 = (b: string) => b.replace(/\r\n2,[\s\S]*?\r\n(?=3,)/, "\r\n");
    const dropped = checkAuditCsv(resealed(dropRow2));
    expect(dropped.problems).toEqual(["the closing line says 3 rows; the file has 2", "event #3: event #2 is missing from an unfiltered export"]);
    // ... the count rewritten too: the gap still shows (no link is checked across it, but none may be there).
    expect(checkAuditCsv(resealed(dropRow2).replace("# rows=3 ", "# rows=2 "))).toMatchObject({ ok: false, problems: ["event #3: event #2 is missing from an unfiltered export"] });
    // The last row dropped, the count rewritten: the head's row is missing.
    const dropRow3 = (b: string) => b.replace(/\r\n3,[^\r\n]*\r\n$/, "\r\n");
    expect(checkAuditCsv(resealed(dropRow3).replace("# rows=3 ", "# rows=2 "))).toMatchObject({ ok: false, problems: ["the head (event #3) is not the last row of an unfiltered export: event #3 is missing"] });
    // The first row dropped, the count rewritten: an unfiltered export starts at event #1.
    const dropRow1 = (b: string) => b.replace(/\r\n1,[^\r\n]*\r\n(?=2,)/, "\r\n");
    expect(checkAuditCsv(resealed(dropRow1).replace("# rows=3 ", "# rows=2 "))).toMatchObject({ ok: false, problems: ["event #2: event #1 is missing from an unfiltered export"] });
    const rows = parseCsv(csv.slice(0, csv.lastIndexOf("\n# rows=") + 1));
    const hash1 = rows[1]![AUDIT_CSV_COLUMNS.indexOf("hash")]!;
    const hash2 = rows[2]![AUDIT_CSV_COLUMNS.indexOf("hash")]!;
    expect(checkAuditCsv(resealed((b) => b.replace(`,${hash1},`, `,${hash2},`))).problems).toEqual(
      expect.arrayContaining(["event #1: its hash is not the sha256 of its hashedText", "event #2: prevHash is not the hash of event #1"]),
    );
    // Row 2's hash and hashedText blanked, as if withheld, and its before edited: an export whose
    // head's hash is given has both on every row, so the blank is no excuse to skip its checks.
    const text2 = rows[2]![AUDIT_CSV_COLUMNS.indexOf("hashedText")]!;
    const blanked = resealed((b) => b.replace(`,${hash2},${csvField(text2)}\r\n`, ",,\r\n").replace("1.10", "1.20"));
    expect(blanked).toContain('"{""wbc"": 1.20, ');
    expect(checkAuditCsv(blanked)).toMatchObject({ ok: false, withheld: 1, problems: [expect.stringMatching(/^event #2: no hash or hashedText, in an export whose head's hash is given/)] });
  });

  it("has nothing to re-hash in a redacted export (no hashes), and still checks its lines", () => {
    const csv = exportOf(EVENTS, { redacted: true });
    expect(csv).toContain("head=#3 hash withheld;");
    expect(checkAuditCsv(csv)).toEqual({ ok: true, rows: 3, rehashed: 0, withheld: 3, linked: 0, head: { seq: "3", hash: null }, unfiltered: true, signature: null, chain: "intact; 3 events verified", problems: [] });
    // A row dropped, the count and sha256 rewritten: the gap shows without hashes too.
    const at = csv.lastIndexOf("\n# rows=") + 1;
    const body = csv.slice(0, at).replace(/\r\n2,[\s\S]*?\r\n(?=3,)/, "\r\n");
    const dropped = body + csv.slice(at).replace("# rows=3 ", "# rows=2 ").replace(/sha256=[0-9a-f]{64}/, `sha256=${sha256(body)}`);
    expect(checkAuditCsv(dropped).problems).toEqual(["event #3: event #2 is missing from an unfiltered export"]);
    expect(checkAuditCsv(csv.replace("A-1", "A-2")).problems).toEqual([expect.stringMatching(/do not match its sha256/)]);
  });

  it("fails a copy cut short, one from before the sha256, and text after the closing line", () => {
    const csv = exportOf(EVENTS);
    expect(checkAuditCsv(csv.slice(0, csv.lastIndexOf("\n# rows=") + 1)).problems).toEqual([expect.stringMatching(/^no closing/)]);
    expect(checkAuditCsv(csv.replace(/sha256=[0-9a-f]{64}; head=#3 [0-9a-f]{64}; /, "")).problems).toEqual([expect.stringMatching(/^the closing line is not/)]);
    expect(checkAuditCsv(`${csv}4,extra\r\n`).problems).toEqual([expect.stringMatching(/^the closing line is not/)]);
  });
});

describe("the closing line's signature", () => {
  const platform = generateKeyPairSync("ed25519");
  const forger = generateKeyPairSync("ed25519");
  const platformKey = exportKeyFingerprint(platform.publicKey);
  const closingAt = (csv: string) => csv.lastIndexOf("\n# rows=") + 1;
  /** A row of the signed export edited, and the sha256 recomputed, as anyone can: the signature left as it was. */
  const resealed = (csv: string, edit: (body: string) => string) => {
    const body = edit(csv.slice(0, closingAt(csv)));
    return body + csv.slice(closingAt(csv)).replace(/sha256=[0-9a-f]{64}/, `sha256=${sha256(body)}`);
  };

  it("names a key by the SHA-256 of its raw 32-byte public key, from the private key or the public one", () => {
    const der = platform.publicKey.export({ type: "spki", format: "der" });
    expect(platformKey).toBe(sha256Bytes(der.subarray(der.length - 32)));
    expect(exportKeyFingerprint(platform.privateKey)).toBe(platformKey);
    expect(exportKeyFingerprint(createPublicKey(platform.publicKey.export({ type: "spki", format: "pem" })))).toBe(platformKey);
    expect(() => exportKeyFingerprint(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey)).toThrow(/Ed25519, not ec/);
  });

  it("verifies a signed export by the platform's key, and says it was not checked without one", () => {
    const csv = exportOf(EVENTS, { signedBy: platform.privateKey });
    expect(csv.slice(closingAt(csv))).toMatch(new RegExp(`; redacted none; sig=ed25519:[A-Za-z0-9+/]{86}==; key=${platformKey}\r\n$`));
    expect(checkAuditCsv(csv, { publicKey: platform.publicKey })).toMatchObject({ ok: true, rehashed: 3, signature: { key: platformKey, verified: true }, problems: [] });
    expect(checkAuditCsv(csv)).toMatchObject({ ok: true, signature: { key: platformKey, verified: null }, problems: [] });
    // Redacted exports are signed alike.
    const redacted = exportOf(EVENTS, { redacted: true, signedBy: platform.privateKey });
    expect(checkAuditCsv(redacted, { publicKey: platform.publicKey })).toMatchObject({ ok: true, withheld: 3, signature: { verified: true } });
  });

  it("fails a copy whose row was edited and resealed with a recomputed sha256, which passes without the key", () => {
    const csv = exportOf(EVENTS, { signedBy: platform.privateKey });
    // Rewritten whole, as anyone can: a value changed, its hash, the head and the sha256
    // recomputed, the signature kept. Consistent in itself: only the signature tells.
    const rewritten = exportOf(EVENTS.map((e) => (e.seq === 3n ? { ...e, after: "-4" } : e)));
    const forged = rewritten.replace(/\r\n$/, csv.match(/; sig=ed25519:\S+; key=[0-9a-f]{64}\r\n$/)![0]);
    expect(checkAuditCsv(forged)).toMatchObject({ ok: true, rehashed: 3, problems: [] });
    expect(checkAuditCsv(forged, { publicKey: platform.publicKey })).toMatchObject({
      ok: false,
      signature: { key: platformKey, verified: false },
      problems: [expect.stringMatching(/^the closing line's signature does not verify by the key given/)],
    });
    // An edit the row's own hash catches is caught with the key as before, and the signature fails too.
    expect(checkAuditCsv(resealed(csv, (b) => b.replaceAll("1.10", "1.20")), { publicKey: platform.publicKey }).problems).toEqual([
      expect.stringMatching(/signature does not verify/),
      "event #2: its hash is not the sha256 of its hashedText",
    ]);
    // The evidence edited (another filter said): signed too.
    expect(checkAuditCsv(csv.replace("; filter none;", "; filter action=case.update;"), { publicKey: platform.publicKey }).problems).toEqual([expect.stringMatching(/signature does not verify/)]);
  });

  it("fails a copy signed again by another key, one whose signature was removed, and an unsigned export, given the key", () => {
    const csv = exportOf(EVENTS, { signedBy: platform.privateKey });
    const unsigned = csv.replace(/; sig=ed25519:[A-Za-z0-9+/=]+; key=[0-9a-f]{64}\r\n$/, "\r\n");
    expect(checkAuditCsv(unsigned)).toMatchObject({ ok: true, signature: null });
    expect(checkAuditCsv(unsigned, { publicKey: platform.publicKey }).problems).toEqual([expect.stringMatching(/^the closing line carries no signature/)]);
    expect(checkAuditCsv(exportOf(EVENTS), { publicKey: platform.publicKey }).ok).toBe(false);
    // Re-signed by a forger's key: it verifies by that key, and names it, but it is not the platform's.
    const forgerKey = exportKeyFingerprint(forger.publicKey);
    const resigned = exportOf(EVENTS, { signedBy: forger.privateKey });
    expect(checkAuditCsv(resigned, { publicKey: forger.publicKey }).ok).toBe(true);
    expect(checkAuditCsv(resigned, { publicKey: platform.publicKey })).toMatchObject({
      ok: false,
      signature: { key: forgerKey, verified: false },
      problems: [`the closing line is signed by key ${forgerKey}, not by the key given (${platformKey})`],
    });
    // The forger's signature with the platform's fingerprint written beside it: does not verify.
    expect(checkAuditCsv(resigned.replace(`key=${forgerKey}`, `key=${platformKey}`), { publicKey: platform.publicKey }).problems).toEqual([expect.stringMatching(/signature does not verify/)]);
  });

  it("fails a mangled signature, key or none", () => {
    const csv = exportOf(EVENTS, { signedBy: platform.privateKey });
    const cut = csv.replace(/==; key=/, "; key=");
    for (const publicKey of [undefined, platform.publicKey]) {
      expect(checkAuditCsv(cut, { publicKey }).problems).toEqual([expect.stringMatching(/^the closing line's signature is not "; sig=ed25519:<base64>; key=<64 hex digits>"/)]);
    }
    expect(checkAuditCsv(csv.replace(/; key=[0-9a-f]{64}/, "; key=abc")).ok).toBe(false);
  });

  it("fails a file as exported, and signed, whose closing line says the platform did not find the chain intact", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    for (const chain of ["BROKEN at event #2: its hash does not match its content", "NOT VERIFIED: the anchor file is missing"]) {
      const check = checkAuditCsv(exportOf(EVENTS, { signedBy: privateKey, chain }), { publicKey: createPublicKey(privateKey) });
      expect(check).toMatchObject({ ok: false, chain, signature: { verified: true } });
      expect(check.problems).toEqual([`the platform did not find the trail's chain intact when it exported this file: ${chain}`]);
    }
  });
});
