// API sessions: one row per issued token, by its sha256. A token is accepted only while its row
// is open and the session was used within the idle timeout, so an unattended workstation signs
// itself out (automatic logoff: 21 CFR 11.10(d), HIPAA 164.312(a)(2)(iii)). Signing out and timing
// out both close the row for good, and each is an audit event (a timeout by the system, also for
// a browser that never came back: closeIdleSessions).
import type { ApiSession, Prisma, PrismaClient } from "@rcmnet/db";
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
/** Issues a token and records its session, in a transaction of its own. */
export async function openSession(prisma: PrismaClient, env: Pick<Env, "authSecret" | "tokenTtlSeconds">, user: SessionUser): Promise<{ token: string; expiresAt: Date }> {
  return prisma.$transaction((tx) => openSessionIn(tx, env, user));
}

/**
 * Issues a token and records its session in the caller's transaction, with what it belongs to (a
 * sign-in, with its auth.login event): the token is the caller's to hand out once that commits.
 */
export async function openSessionIn(tx: Prisma.TransactionClient, env: Pick<Env, "authSecret" | "tokenTtlSeconds">, user: SessionUser): Promise<{ token: string; expiresAt: Date }> {
  const issued = await issueToken(
    env.authSecret,
    { sub: user.id, role: user.role as never, login: user.login, pwv: user.passwordChangedAt.getTime() },
    env.tokenTtlSeconds,
  );
  const now = new Date();
  // Ended sessions past their token's expiry can never matter again: their rows only take space
  // (the audit trail keeps every sign-in, sign-out and timeout).
  await tx.apiSession.deleteMany({ where: { expiresAt: { lt: now }, endedAt: { not: null } } });
  await tx.apiSession.create({ data: { tokenSha256: tokenDigest(issued.token), userId: user.id, lastSeenAt: now, expiresAt: issued.expiresAt } });
  return issued;
}

export type SessionCheck = "active" | "ended" | "idle";

export type SessionRow = Pick<ApiSession, "tokenSha256" | "userId" | "lastSeenAt" | "expiresAt" | "endedAt" | "endReason">;

/**
 * When an idle session ends: `idleTimeoutSeconds` after its last use, at the earliest. lastSeenAt
 * can lag the last use by up to LAST_SEEN_RESOLUTION_MS, so the end falls between the timeout and
 * the timeout plus that resolution, never before the timeout.
 */
function idleEnd(session: Pick<ApiSession, "lastSeenAt">, env: Pick<Env, "idleTimeoutSeconds">): number {
  return session.lastSeenAt.getTime() + env.idleTimeoutSeconds * 1000 + LAST_SEEN_RESOLUTION_MS;
}

/**
 * Whether the session of a verified token may act (`session`: its row, read beside the user's). An
 * idle session is closed here: it stays refused even if the timeout is raised later.
 * `background` requests (the dashboard's polls and its session watch) are checked but do not
 * count as use, or an open worklist would never time out.
 */
export async function checkSession(
  prisma: PrismaClient,
  env: Pick<Env, "idleTimeoutSeconds">,
  session: SessionRow | null,
  userId: string,
  { background = false } = {},
): Promise<SessionCheck> {
  if (!session || session.userId !== userId) return "ended";
  // A timed-out session keeps saying so: the dashboard's other requests in flight then agree on why.
  if (session.endedAt) return session.endReason === "IDLE" ? "idle" : "ended";
  const now = Date.now();
  if (now > idleEnd(session, env)) {
    await endIdleSession(prisma, env, session);
    return "idle";
  }
  if (!background && now - session.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS) {
    await prisma.apiSession.updateMany({ where: { tokenSha256: session.tokenSha256, endedAt: null }, data: { lastSeenAt: new Date(now) } });
  }
  return "active";
}

/**
 * Closes a session its user left: ended at the moment the timeout ran out (not when it was
 * noticed), by the system, once. The event keeps the last use. A token that expired first (in
 * use until its 8 h were up) ended then, and is recorded as expired, not as left idle.
 */
async function endIdleSession(
  prisma: PrismaClient,
  env: Pick<Env, "idleTimeoutSeconds">,
  session: Pick<ApiSession, "tokenSha256" | "userId" | "lastSeenAt" | "expiresAt">,
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const expired = session.expiresAt.getTime() < idleEnd(session, env);
    const endedAt = expired ? session.expiresAt : new Date(idleEnd(session, env));
    const { count } = await tx.apiSession.updateMany({ where: { tokenSha256: session.tokenSha256, endedAt: null }, data: { endedAt, endReason: expired ? "EXPIRED" : "IDLE" } });
    if (count === 0) return false;
    await recordAudit(tx, null, {
      action: expired ? "auth.session_expired" : "auth.session_timeout",
      entityType: "User",
      entityId: session.userId,
      after: { lastUsedAt: session.lastSeenAt.toISOString(), endedAt: endedAt.toISOString(), idleTimeoutSeconds: env.idleTimeoutSeconds },
    });
    return true;
  });
}

/**
 * Closes every session whose idle timeout has run out, whether or not its token comes back: a
 * browser closed on an unattended workstation never sends another request. The API runs this
 * every minute; returns how many it closed.
 */
export async function closeIdleSessions(prisma: PrismaClient, env: Pick<Env, "idleTimeoutSeconds">): Promise<number> {
  const overdue = await prisma.apiSession.findMany({
    where: { endedAt: null, lastSeenAt: { lt: new Date(Date.now() - env.idleTimeoutSeconds * 1000 - LAST_SEEN_RESOLUTION_MS) } },
    select: { tokenSha256: true, userId: true, lastSeenAt: true, expiresAt: true },
    take: 500,
  });
  let closed = 0;
  for (const session of overdue) if (await endIdleSession(prisma, env, session)) closed++;
  return closed;
}

/** Signing out: closes the session once; the audit event is written by whichever request closed it. */
export async function endSession(prisma: PrismaClient, tokenSha256: string, user: { id: string; login: string }): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.apiSession.updateMany({ where: { tokenSha256, endedAt: null }, data: { endedAt: new Date(), endReason: "LOGOUT" } });
    if (count === 0) return;
    await recordAudit(tx, user, { action: "auth.logout", entityType: "User", entityId: user.id });
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
