import type { PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import type { Env } from "../../env.ts";
import { assertPasswordPolicy, hashPassword, historyAfterChange, isRecentPassword, PASSWORD_HISTORY } from "../../auth/passwords.ts";
import { openSession, revokeUserSessions } from "../../auth/sessions.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { checkPassword, onceSession, type LoginResult } from "./login.ts";

/** Re-verifies the current password; the new passwordChangedAt revokes every older token. */
export async function changeMyPassword(
  prisma: PrismaClient,
  env: Env,
  actor: AuthUser,
  currentPassword: string,
  newPassword: string,
): Promise<LoginResult> {
  const row = await prisma.user.findUnique({ where: { id: actor.id } });
  if (!row) throw notFound("User");
  assertPasswordPolicy(newPassword, { login: row.login, displayName: row.displayName });
  if (newPassword === currentPassword) throw badInput("The new password must differ from the current one");
  await checkPassword(prisma, row, currentPassword, "signature", { for: "password change" });
  // Checked once the current password is: only the owner learns that a password was theirs before.
  if (await isRecentPassword(newPassword, row.passwordHash, row.passwordHistory)) {
    throw badInput(`The new password must differ from your last ${PASSWORD_HISTORY + 1} passwords`);
  }
  const passwordHash = await hashPassword(newPassword);
  const user = await prisma.$transaction(async (tx) => {
    // The password checked above must still be the one in force: an administrator's reset
    // committed since (while the hashes were computed) would otherwise be overwritten by a
    // password chosen against the old one. Locked, so a reset from now on waits for this commit.
    const [now] = await tx.$queryRaw<{ passwordHash: string; passwordChangedAt: Date }[]>`
      SELECT "passwordHash", "passwordChangedAt" FROM "user" WHERE id = ${actor.id}::uuid FOR UPDATE`;
    if (!now) throw notFound("User");
    if (now.passwordHash !== row.passwordHash || now.passwordChangedAt.getTime() !== row.passwordChangedAt.getTime()) {
      throw conflict("Your password was changed or reset meanwhile (by an administrator or another session): nothing was changed; sign in with the current password");
    }
    const updated = await tx.user.update({ where: { id: actor.id }, data: { passwordHash, passwordChangedAt: new Date(), mustChangePassword: false, passwordHistory: historyAfterChange(now.passwordHash, row.passwordHistory) } });
    // Every older session ends with the old password, this one too: the answer carries a new
    // token for a client that asks for one.
    const sessionsEnded = await revokeUserSessions(tx, actor.id);
    await recordAudit(tx, actor, { action: "user.change_own_password", entityType: "User", entityId: actor.id, after: { sessionsEnded } });
    return updated;
  });
  // Opened only for a client that asks for the new token: the dashboard signs in again instead,
  // and a session nobody holds would only time out later as if someone had walked away.
  return { user, mustChangePassword: user.mustChangePassword, session: onceSession(() => openSession(prisma, env, user)) };
}
