import type { PrismaClient } from "@rcmnet/db";
import type { AuthUser } from "../../context.ts";
import type { Env } from "../../env.ts";
import { assertPasswordPolicy, hashPassword, historyAfterChange, isRecentPassword, PASSWORD_HISTORY } from "../../auth/passwords.ts";
import { openSessionIn, revokeUserSessions } from "../../auth/sessions.ts";
import { badInput, conflict, notFound } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { checkPassword, type LoginResult } from "./login.ts";

/**
 * Re-verifies the current password; the new passwordChangedAt revokes every older token.
 * `openSession`: the client asked for the answer's token (or its expiry), so a new session is
 * opened with the change, and recorded as a sign-in (the current password was just checked);
 * otherwise none is (the dashboard signs in again instead), so no session nobody holds later
 * times out on the record as if someone had walked away.
 */
export async function changeMyPassword(
  prisma: PrismaClient,
  env: Env,
  actor: AuthUser,
  currentPassword: string,
  newPassword: string,
  { openSession }: { openSession: boolean },
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
  const { user, opened } = await prisma.$transaction(async (tx) => {
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
    // As a sign-in does it: the session and its auth.login event commit with the change or not at
    // all, so every session on record starts with a sign-in (and ends with a sign-out or timeout).
    // Opened before the events: an audit insert takes the trail's lock, which is taken last (a
    // sign-in holding session rows while waiting for it would otherwise deadlock with this).
    const opened = openSession ? await openSessionIn(tx, env, updated) : null;
    await recordAudit(tx, actor, { action: "user.change_own_password", entityType: "User", entityId: actor.id, after: { sessionsEnded } });
    if (opened) await recordAudit(tx, actor, { action: "auth.login", entityType: "User", entityId: actor.id, after: { via: "password change" } });
    return { user: updated, opened };
  });
  return {
    user,
    mustChangePassword: user.mustChangePassword,
    session: async () => opened ?? Promise.reject(new Error("changeMyPassword: a session was asked for that the selection did not ask for")),
  };
}
