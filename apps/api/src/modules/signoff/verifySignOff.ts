// Re-checks a stored signature: the content hash, that the columns a report page or an export
// shows (signer, time, meaning, version, amendment reason, retraction) say what the signed content says, and
// that the hash is the one the hash-chained audit trail recorded at signing. The table refuses
// UPDATE by trigger, but a database superuser can disable triggers: this is the check that
// notices. Content and hash rewritten together agree with each other; only the trail, whose own
// chain verifyAuditTrail checks, still holds the original hash.
import type { PrismaClient, SignOff } from "@rcmnet/db";
import { sha256OfContent } from "./canonicalJson.ts";
import { isRetraction } from "./meanings.ts";

function field(v: unknown, key: string): unknown {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
}

/** The content hash the audit trail recorded when this signature was made (null: no such event). */
export async function auditedSha256(prisma: PrismaClient, row: SignOff): Promise<string | null> {
  const event = await prisma.auditEvent.findFirst({
    where: { action: "case.sign_off", entityType: "Case", entityId: row.caseId, after: { path: ["signOffId"], equals: row.id } },
    select: { after: true },
  });
  const sha = field(event?.after, "contentSha256");
  return typeof sha === "string" ? sha : null;
}

/**
 * Whether a cell the signature covers no longer is what it signed (/10 signs each cell's crop and
 * box): its row's image or place changed, or it is gone. The cell table refuses such changes by
 * trigger; this notices one made with the triggers off. Reports signed before /10 name no crops.
 */
export async function signedCellsDiffer(prisma: Pick<PrismaClient, "cell">, row: Pick<SignOff, "content">): Promise<boolean> {
  const signed = field(row.content, "cells");
  if (!Array.isArray(signed)) return false;
  const withCrop = signed.filter((c) => typeof field(c, "crop") === "string");
  if (withCrop.length === 0) return false;
  const ids = withCrop.map((c) => String(field(c, "id")));
  const stored = await prisma.cell.findMany({ where: { id: { in: ids } }, select: { id: true, slideId: true, cropSha256: true, x: true, y: true, width: true, height: true } });
  const byId = new Map(stored.map((c) => [c.id, c]));
  return withCrop.some((c) => {
    const now = byId.get(String(field(c, "id")));
    return !now || now.slideId !== field(c, "slideId") || now.cropSha256 !== field(c, "crop") || JSON.stringify([now.x, now.y, now.width, now.height]) !== JSON.stringify(field(c, "box"));
  });
}

/** `cellsDiffer`: signedCellsDiffer's answer for this row (reported as the "cells" mismatch). */
export function verifySignOffRow(row: SignOff, audited: string | null, cellsDiffer = false) {
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
    // A retraction's content says so (/8), and nothing else's does: a report page reads the flag,
    // the meaning column names it. Reports signed before /8 have neither.
    ["retracted", isRetraction(row.meaning), field(c, "retracted") === true],
  ];
  const mismatches = columns.filter(([, stored, signed]) => stored !== signed).map(([name]) => name);
  if (audited !== row.contentSha256) mismatches.push("auditTrail");
  if (cellsDiffer) mismatches.push("cells");
  return { ok: computedSha256 === row.contentSha256 && mismatches.length === 0, storedSha256: row.contentSha256, computedSha256, auditedSha256: audited, mismatches };
}
