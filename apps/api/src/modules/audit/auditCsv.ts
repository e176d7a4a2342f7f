// GET /audit.csv?caseAccession=&entityType=&entityId=&actorId=&actorLogin=&action=&from=&to=
// (AUDITOR, ADMIN): the filtered trail as CSV, streamed in pages so a large trail never sits in
// memory at once. The export is itself audited, says whether the chain verified (header
// x-audit-chain) and what was blanked for the reader's role (x-audit-redacted: patient references,
// the hashes over them, and the reasons that may name a patient, whose blank cell would otherwise
// read as an edit made without one), and refuses an unknown filter rather than exporting the whole
// trail for a mistyped one. The file carries the same evidence, as headers do not travel with a
// saved copy: a comment line (when, by whom, the filter, the chain's verdict, what was blanked)
// written only after the last row (`# rows=N complete; …`), so that a truncated copy is
// recognisable. A saved copy can be checked offline (auditCsvFormat.ts, scripts/verifyAuditCsv.ts):
// for readers who see everything, each row carries the exact text its hash covers (hashedText,
// and before/after as the JSON text inside it), and the closing line a sha256 of every line above
// it and the trail's head as the export began (its own audit.export event; the rows stop there),
// then the platform's Ed25519 signature over the line before it (exportSigningKey.ts): a copy
// rewritten and resealed with a recomputed sha256 fails with the key GET /audit/export-key gives.
// No key that can sign, no export: nothing is sent and no export is recorded.
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import type { PrismaClient } from "@rcmnet/db";
import { parseDateTime } from "../core/resolvers.ts";
import type { Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { AUDIT_READERS } from "../../auth/roles.ts";
import { badInput } from "../../errors.ts";
import { writeOrWait } from "../../lib/writeStream.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { canSeePatientRef } from "../cases/caseRules.ts";
import type { AuditVerification } from "@rcmnet/db";
import { chainVerifier } from "./chainVerifier.ts";
import { auditWhere, type AuditFilter } from "./listAuditEvents.ts";
import { AUDIT_CSV_COLUMNS as COLUMNS, closingPrefix, csvField, signClosingLine } from "./auditCsvFormat.ts";
import { usableExportKey } from "./exportKeyRoute.ts";
import { HASH_KEYS, hashFor, PATIENT_KEYS, PATIENT_REASON_ACTIONS, reasonFor, redactAuditJson } from "./redact.ts";

export { csvField };

/**
 * The exact texts of these events: before and after as jsonb writes them, and the text their hash
 * covers, built as audit_event_hash() builds it (prisma/migrations/20261125000000_init; keep the
 * two the same: the export's test re-hashes every row from the file, so a drift fails it).
 */
async function exactTexts(prisma: PrismaClient, seqs: bigint[]): Promise<Map<bigint, { before: string | null; after: string | null; hashedText: string }>> {
  const rows = await prisma.$queryRaw<{ seq: bigint; before: string | null; after: string | null; hashedText: string }[]>`
    SELECT e."seq", e."before"::text AS "before", e."after"::text AS "after",
      jsonb_build_array(
        e."seq", e."prevHash", e."actorId", e."actorLogin", e."action", e."entityType",
        e."entityId", e."before", e."after", e."reason",
        to_char(e."at", 'YYYY-MM-DD"T"HH24:MI:SS.US')
      )::text AS "hashedText"
    FROM "audit_event" e
    WHERE e."seq" = ANY(${seqs.map(String)}::text[]::bigint[])`;
  return new Map(rows.map((r) => [r.seq, r]));
}

/**
 * A "# " line, without its line break: one field to any CSV reader (no comma, quote or line
 * break, whatever a filter value holds), skipped by readers told that "#" starts a comment.
 */
function commentLine(text: string): string {
  return `# ${text.replace(/[\r\n]+/g, " ").replace(/,/g, ";").replace(/"/g, "'")}`;
}

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw badInput(`${name} must be given once`);
  return v;
}

function queryDate(req: Request, name: string): Date | undefined {
  const v = queryString(req, name);
  if (v === undefined) return undefined;
  // A time without a zone would be read in this server's zone, while every audit time is UTC.
  if (/T|:/.test(v) && !/(Z|[+-]\d\d:?\d\d)$/i.test(v)) throw badInput(`${name} must name its time zone (e.g. 2026-11-26T08:00:00Z): audit times are UTC`);
  // A day (as UTC midnight) or the API's DateTime, and nothing looser: "5" or "Nov 26" would
  // quietly export another window than the one asked for.
  try {
    return parseDateTime(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  } catch {
    throw badInput(`${name} is not a date (2026-11-26, or 2026-11-26T08:00:00Z)`);
  }
}

const FILTERS = ["caseAccession", "entityType", "entityId", "actorId", "actorLogin", "action", "from", "to"];

/** Which events this check re-hashed, when it resumed from an earlier full walk. */
function howVerified(chain: AuditVerification): string {
  if (chain.full || chain.fullyVerifiedThrough === null || !chain.fullyVerifiedAt) return "";
  return ` (1-${chain.fullyVerifiedThrough} re-hashed at ${chain.fullyVerifiedAt.toISOString()}, the rest now)`;
}

/** Whether the client went away (the connection closed, the response destroyed) before the response ended. */
function clientGone(res: Response): boolean {
  return res.destroyed || res.writableEnded || res.closed;
}

export async function auditCsv(ctx: Context, req: Request, res: Response): Promise<void> {
  const reader = requireRole(ctx, AUDIT_READERS);
  const unknown = Object.keys(req.query).filter((k) => !FILTERS.includes(k));
  if (unknown.length) throw badInput(`Unknown filter ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(", ")}: use ${FILTERS.join(", ")}`);
  const filter: AuditFilter = {
    caseAccession: queryString(req, "caseAccession") ?? null,
    entityType: queryString(req, "entityType") ?? null,
    entityId: queryString(req, "entityId") ?? null,
    actorId: queryString(req, "actorId") ?? null,
    actorLogin: queryString(req, "actorLogin") ?? null,
    action: queryString(req, "action") ?? null,
    from: queryDate(req, "from") ?? null,
    to: queryDate(req, "to") ?? null,
  };
  const where = await auditWhere(ctx.prisma, filter);
  // Before anything is verified, recorded or sent: an export that could not be signed is none.
  const { key } = await usableExportKey(ctx);
  const chain = await chainVerifier(ctx.prisma, ctx.env).verify(ctx.prisma);
  // The client gone while the chain was verified (a full walk takes seconds; the page's Cancel
  // aborts the request, through the web app's proxy): nothing is sent, so no export is recorded in
  // the reader's name either; the page said "cancelled; nothing was saved" and the trail agrees.
  // Node destroys the response when its socket closes before it was ended.
  if (clientGone(res)) return;
  const given = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== null).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
  // Recorded before the first byte is sent, and kept whatever happens to the stream after: an
  // export cut off mid-stream (client gone, download cancelled, API or database failing) has sent
  // rows that may have been kept (a partial file lacks the closing "# rows=N complete" line, but
  // its rows are still data that left), so the trail must show it. Only a client gone before
  // anything was sent (above) goes unrecorded.
  // The trail's head is read in the same transaction: this export's own event (the chain's trigger
  // holds its lock until the commit, so no other event follows it yet). The rows stop there, so that
  // an unfiltered export is every event from #1 to the head and ends with it, whatever is written
  // during the export, and the head's hash, compared with the trail or the anchor file later,
  // vouches through the rows' links for them all (checkAuditCsv requires exactly that).
  const head = await ctx.prisma.$transaction(async (tx) => {
    await recordAudit(tx, reader, { action: "audit.export", entityType: "AuditTrail", entityId: "csv", after: { filter: given, chainOk: chain.ok, chainFullyVerifiedThrough: chain.fullyVerifiedThrough, chainFullyVerifiedAt: chain.fullyVerifiedAt?.toISOString() ?? null } });
    return tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
  });
  const upToHead = { seq: { lte: head?.seq ?? 0n } };
  // No broken link: the chain held, but the anchor file or the anchors' recency failed the verdict.
  const failed = chain.firstBrokenSeq === null ? "NOT VERIFIED" : `BROKEN at event #${chain.firstBrokenSeq}`;
  const chainStatus = chain.ok ? `intact; ${chain.checked} events verified${howVerified(chain)}` : `${failed}: ${chain.problem ?? ""}`.slice(0, 500);
  // One item per thing blanked, joined with ", " (the page shows the header as it is): an item
  // holds no comma, so the closing line's ";" separates the same items.
  const everything = canSeePatientRef(reader.role);
  const redacted = everything ? null : [...PATIENT_KEYS, ...HASH_KEYS, "prevHash", "hashedText", `reason of ${[...PATIENT_REASON_ACTIONS].join("/")}`].join(", ");
  res.setHeader("x-audit-chain", chainStatus);
  if (redacted) res.setHeader("x-audit-redacted", redacted);
  res.setHeader("content-type", "text/csv; charset=utf-8");
  res.setHeader("content-disposition", `attachment; filename="audit-trail.csv"`);
  const filterText = new URLSearchParams(given as Record<string, string>).toString() || "none";
  // Said after the rows, not before: line 1 stays the column header every CSV reader expects.
  const evidence = `RCMNet audit export; exported ${new Date().toISOString()} by ${reader.login}; filter ${filterText}; chain ${chainStatus}; redacted ${redacted ?? "none"}`;
  // Every line above the closing one, as sent: its sha256 closes the file.
  const digest = createHash("sha256");
  const send = (text: string) => {
    digest.update(text, "utf8");
    return writeOrWait(res, text);
  };
  if (!(await send(`${COLUMNS.join(",")}\r\n`))) return;
  let rowCount = 0;
  let after: bigint | null = null;
  for (;;) {
    const rows: Awaited<ReturnType<typeof ctx.prisma.auditEvent.findMany>> = await ctx.prisma.auditEvent.findMany({
      where: { AND: after === null ? [where, upToHead] : [where, upToHead, { seq: { gt: after } }] },
      orderBy: { seq: "asc" },
      take: 1000,
    });
    // Readers who see everything get the exact texts (a redacted row cannot be re-hashed anyway).
    const exact = everything && rows.length ? await exactTexts(ctx.prisma, rows.map((r) => r.seq)) : null;
    const lines = rows.map((row) => {
      const text = exact?.get(row.seq);
      if (exact && !text) throw new Error(`audit event #${row.seq} vanished during the export`);
      const shown = {
        ...row,
        before: text ? text.before : redactAuditJson(row.before, reader.role),
        after: text ? text.after : redactAuditJson(row.after, reader.role),
        reason: reasonFor(row.action, row.reason, reader.role),
        prevHash: hashFor(row.prevHash, reader.role),
        hash: hashFor(row.hash, reader.role),
        hashedText: text?.hashedText ?? null,
      };
      return COLUMNS.map((c) => csvField(shown[c])).join(",") + "\r\n";
    });
    // A client gone (or a download cancelled) ends the export: no more pages are read.
    if (!(await send(lines.join("")))) return;
    rowCount += rows.length;
    if (rows.length < 1000) break;
    after = rows[rows.length - 1]!.seq;
  }
  // Only here, after the last row: an export cut short (the API or the database failing) lacks it.
  const closing = closingPrefix(rowCount, digest.digest("hex"), head && { seq: head.seq, hash: hashFor(head.hash, reader.role) });
  // Signed as written (after commentLine's replacements): a verifier checks the file's own bytes, rebuilding nothing.
  await writeOrWait(res, `${signClosingLine(commentLine(`${closing}; ${evidence}`), key.privateKey, key.fingerprint)}\r\n`);
  res.end();
}
