// API sessions: one row per issued token, by its sha256. A token is accepted only while its row
// is open and the session was used within the idle timeout, so an unattended workstation signs
// itself out (automatic logoff: 21 CFR 11.10(d), HIPAA 164.312(a)(2)(iii)). Signing out and timing
// out both close the row for good, and each is an audit event.
import type { Prisma, PrismaClient, SessionEnd } from "@rcmnet/db";
import type { Env } from "../env.ts";
import { recordAudit } from "../audit/recordAudit.ts";
import { issueToken, tokenDigest } from "./tokens.ts";

/** lastSeenAt is written at most this often: a write per request would cost more than the check. */
export const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface SessionUser {
  id: string;
  login: string;
  role: string;
  passwordChangedAt: Date;
}

/** Issues a token and opens its session. */
export async function openSession(prisma: PrismaClient, env: Pick<Env, "authSecret" | "tokenTtlSeconds">, user: SessionUser): Promise<{ token: string; expiresAt: Date }> {
  const issued = await issueToken(
    env.authSecret,
    { sub: user.id, role: user.role as never, login: user.login, pwv: user.passwordChangedAt.getTime() },
    env.tokenTtlSeconds,
  );
  const now = new Date();
  await prisma.$transaction([
    // Past their expiry, tokens are refused by their signature: their rows only take space (the
    // audit trail keeps every sign-in, sign-out and timeout).
    prisma.apiSession.deleteMany({ where: { expiresAt: { lt: now } } }),
    prisma.apiSession.create({ data: { tokenSha256: tokenDigest(issued.token), userId: user.id, lastSeenAt: now, expiresAt: issued.expiresAt } }),
  ]);
  return issued;
}

export type SessionCheck = "active" | "ended" | "idle";

/**
 * Whether the session of a verified token may act. An idle session is closed here (and audited):
 * it stays refused even if the timeout is raised later. `background` requests (the dashboard's
 * polls) are checked but do not count as use, or an open worklist would never time out.
 */
export async function checkSession(
  prisma: PrismaClient,
  env: Pick<Env, "idleTimeoutSeconds">,
  tokenSha256: string,
  user: { id: string; login: string },
  { background = false } = {},
): Promise<SessionCheck> {
  const session = await prisma.apiSession.findUnique({ where: { tokenSha256 } });
  if (!session || session.userId !== user.id) return "ended";
  // A timed-out session keeps saying so: the dashboard's other requests in flight then agree on why.
  if (session.endedAt) return session.endReason === "IDLE" ? "idle" : "ended";
  const idleMs = Date.now() - session.lastSeenAt.getTime();
  if (idleMs > env.idleTimeoutSeconds * 1000) {
    await endSession(prisma, tokenSha256, "IDLE", user);
    return "idle";
  }
  if (!background && idleMs > LAST_SEEN_RESOLUTION_MS) {
    await prisma.apiSession.updateMany({ where: { tokenSha256, endedAt: null }, data: { lastSeenAt: new Date() } });
  }
  return "active";
}

/** Closes a session once; the audit event is written by whichever request closed it. */
export async function endSession(prisma: PrismaClient, tokenSha256: string, reason: SessionEnd, user: { id: string; login: string }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.apiSession.updateMany({ where: { tokenSha256, endedAt: null }, data: { endedAt: new Date(), endReason: reason } });
    if (count === 0) return;
    await recordAudit(tx, user, {
      action: reason === "LOGOUT" ? "auth.logout" : "auth.session_timeout",
      entityType: "User",
      entityId: user.id,
    });
  });
}

/**
 * Closes every open session of a user, inside the transaction of the account change that calls
 * for it (disabled, role changed, password reset or changed). Token checks would refuse those
 * tokens anyway while the change holds; closing them keeps them refused if it is undone (an
 * account enabled again, a role changed back). Returns how many were closed, for the audit event.
 */
export async function revokeUserSessions(tx: Prisma.TransactionClient, userId: string): Promise<number> {
  const { count } = await tx.apiSession.updateMany({ where: { userId, endedAt: null }, data: { endedAt: new Date(), endReason: "REVOKED" } });
  return count;
}
