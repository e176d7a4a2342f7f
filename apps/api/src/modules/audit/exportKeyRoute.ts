// GET /audit/export-key (AUDITOR, ADMIN): the public key that verifies the signature closing every
// audit export (scripts/verifyAuditCsv.ts --key), its fingerprint as the closing line names it,
// and the seq of the audit.exportKey.register event that recorded it, by which an auditor ties the
// key to the trail rather than to this answer alone.
import type { Request, Response } from "express";
import type { Context } from "../../context.ts";
import { requireRole } from "../../auth/policy.ts";
import { AUDIT_READERS } from "../../auth/roles.ts";
import { unavailable } from "../../errors.ts";
import { exportSigningKey, ExportSigningKeyError } from "./exportSigningKey.ts";

/**
 * The export key, or UNAVAILABLE (503, nothing done) where its file cannot be used: the log says
 * which file and why, for the operator; the reader learns that exports are refused until then.
 */
export async function usableExportKey(ctx: Pick<Context, "prisma" | "env" | "log">): ReturnType<typeof exportSigningKey> {
  try {
    return await exportSigningKey(ctx.prisma, ctx.env);
  } catch (err) {
    if (!(err instanceof ExportSigningKeyError)) throw err;
    ctx.log.error(err.message, { path: err.path });
    throw unavailable("Audit exports cannot be signed: the platform's signing key cannot be used (the API's log says why), so none is made until an operator restores the key file");
  }
}

export async function auditExportKeyRoute(ctx: Context, _req: Request, res: Response): Promise<void> {
  requireRole(ctx, AUDIT_READERS);
  const { key, recordedSeq } = await usableExportKey(ctx);
  res.json({ algorithm: "ed25519", fingerprint: key.fingerprint, publicKey: key.publicKeyPem, recordedSeq: recordedSeq.toString() });
}
