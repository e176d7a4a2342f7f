import type { PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import type { Env } from "../../env.ts";
import { assertPasswordPolicy, hashPassword } from "../../auth/passwords.ts";
import { openSession, revokeUserSessions } from "../../auth/sessions.ts";
import { badInput, notFound } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { checkPassword, type LoginResult } from "./login.ts";

/** Re-verifies the current password; the new passwordChangedAt revokes every older token. */
export async function changeMyPassword(
  prisma: PrismaClient,
  env: Env,
  actor: AuthUser,
  currentPassword: string,
  newPassword: string,
): Promise<LoginResult> {
  assertPasswordPolicy(newPassword);
  if (newPassword === currentPassword) throw badInput("The new password must differ from the current one");
  const row = await prisma.user.findUnique({ where: { id: actor.id } });
  if (!row) throw notFound("User");
  await checkPassword(prisma, row, currentPassword, "signature", { for: "password change" });
  const passwordHash = await hashPassword(newPassword);
  const user = await prisma.$transaction(async (tx) => {
    const updated = await tx.user.update({ where: { id: actor.id }, data: { passwordHash, passwordChangedAt: new Date(), mustChangePassword: false } });
    // Every older session ends with the old password, this one too: the answer carries a new token.
    const sessionsEnded = await revokeUserSessions(tx, actor.id);
    await recordAudit(tx, actor, { action: "user.change_own_password", entityType: "User", entityId: actor.id, after: { sessionsEnded } });
    return updated;
  });
  const { token, expiresAt } = await openSession(prisma, env, user);
  return { token, expiresAt, user, mustChangePassword: user.mustChangePassword };
}
