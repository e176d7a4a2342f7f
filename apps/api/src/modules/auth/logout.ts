// Signing out revokes the token that signed out, before it expires: a copy of the session cookie
// taken from a shared workstation stops working with it. Other sessions of the user stay.
import type { PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import { recordAudit } from "../../audit/recordAudit.ts";

export async function logout(prisma: PrismaClient, actor: AuthUser, session: { tokenSha256: string; expiresAt: Date }): Promise<boolean> {
  await prisma.$transaction(async (tx) => {
    // Expired tokens are refused by their signature anyway: their revocations can go.
    await tx.revokedToken.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    await tx.revokedToken.createMany({ data: [{ tokenSha256: session.tokenSha256, userId: actor.id, expiresAt: session.expiresAt }], skipDuplicates: true });
    await recordAudit(tx, actor, { action: "auth.logout", entityType: "User", entityId: actor.id });
  });
  return true;
}
