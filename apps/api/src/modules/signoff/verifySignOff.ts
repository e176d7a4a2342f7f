// Re-checks a stored signature: the content hash, and that the columns a report page or an export
// shows (signer, time, meaning, version, amendment reason) say what the signed content says. The
// table refuses UPDATE by trigger, but a database superuser can disable triggers: this is the check
// that notices.
import type { SignOff } from "@rcmnet/db";
import { sha256OfContent } from "./canonicalJson.ts";

function field(v: unknown, key: string): unknown {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
}

export function verifySignOffRow(row: SignOff) {
  const computedSha256 = sha256OfContent(row.content);
  const c = row.content;
  const columns: [string, unknown, unknown][] = [
    ["caseId", row.caseId, field(field(c, "case"), "id")],
    ["version", row.version, field(c, "version")],
    ["signerId", row.signerId, field(field(c, "signer"), "id")],
    ["signerName", row.signerName, field(field(c, "signer"), "name")],
    ["signedAt", row.signedAt.toISOString(), field(c, "signedAt")],
    ["meaning", row.meaning, field(c, "meaning")],
    ["amendmentReason", row.amendmentReason, field(c, "amendmentReason") ?? null],
    ["supersedesId", row.supersedesId, field(field(c, "supersedes"), "id") ?? null],
  ];
  const mismatches = columns.filter(([, stored, signed]) => stored !== signed).map(([name]) => name);
  return { ok: computedSha256 === row.contentSha256 && mismatches.length === 0, storedSha256: row.contentSha256, computedSha256, mismatches };
}
