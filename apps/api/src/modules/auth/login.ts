// Sign-in with lockout (5 failures -> 15 min) and a generic message that does not tell whether
// the login exists. Failed attempts are audited (21 CFR 11.300(d): attempts at unauthorized use).
import { createHmac } from "node:crypto";
import { Prisma, type PrismaClient, type User } from "@rcmnet/db";
import type { Env } from "../../env.ts";
import { dummyPasswordHash, verifyPassword } from "../../auth/passwords.ts";
import { mustChangePasswordNow, temporaryPasswordExpired, temporaryPasswordsSetBefore } from "../../auth/passwordAge.ts";
import { openSession } from "../../auth/sessions.ts";
import { forbidden, rateLimited, unauthenticated } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

/**
 * Failed attempts count toward a lockout while each comes within LOCKOUT_MS of the previous one;
 * after a longer pause the count starts again. Unknown logins' counts must be forgotten (their
 * table would grow without end), and an account's the same way: were only one kind forgotten,
 * four failures, a wait and a fifth would tell which logins exist. Read on the database's clock,
 * in UTC without a time zone, as Prisma writes the columns.
 */
const COUNT_WINDOW_START = Prisma.sql`(now() AT TIME ZONE 'UTC') - ${LOCKOUT_MS}::int * interval '1 millisecond'`;
const NOW_UTC = Prisma.sql`(now() AT TIME ZONE 'UTC')`;
/**
 * A lock's end, set and judged on the database's clock for accounts and unknown logins alike: were
 * one kind on an API host's clock, a host whose clock is off would lock it for longer or shorter,
 * and its lockedUntil would tell which logins exist.
 */
const LOCKED_UNTIL = Prisma.sql`${NOW_UTC} + ${LOCKOUT_MS}::int * interval '1 millisecond'`;

/**
 * How a failed attempt updates its row, for an account and an unknown login alike (one rule, so
 * their answers cannot drift apart): counted while within the window of the previous failure,
 * else counted as the first; the attempt that reaches MAX_FAILED_LOGINS locks and starts the count
 * again. `row`: how the statement names the row as it was (`t.` in an upsert, nothing in an UPDATE).
 */
function failedAttemptSet(row: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const counted = Prisma.sql`CASE WHEN ${row}"lastFailedLoginAt" > ${COUNT_WINDOW_START} THEN ${row}"failedLogins" + 1 ELSE 1 END`;
  return Prisma.sql`"failedLogins" = CASE WHEN ${counted} >= ${MAX_FAILED_LOGINS} THEN 0 ELSE ${counted} END,
      "lockedUntil" = CASE WHEN ${counted} >= ${MAX_FAILED_LOGINS} THEN ${LOCKED_UNTIL} END,
      "lastFailedLoginAt" = ${NOW_UTC}`;
}

/** What Mutation.login and changeMyPassword answer (AuthPayload). */
export interface LoginResult {
  user: User;
  mustChangePassword: boolean;
  /** The session behind `token` and `expiresAt`, opened at most once, when a client asks for either. */
  session: () => Promise<{ token: string; expiresAt: Date }>;
  /**
   * A sign-in's look back, for its owner: when the account last signed in, and the wrong passwords
   * typed for it since. Someone else's use of the account (an administrator who set its password
   * and signed in with it, say) shows there.
   */
  previousSignIn?: { at: Date | null; failedAttempts: number };
}

/** Opens the session on the first call only. */
export function onceSession(open: () => Promise<{ token: string; expiresAt: Date }>): LoginResult["session"] {
  let opened: Promise<{ token: string; expiresAt: Date }> | null = null;
  return () => (opened ??= open());
}

/**
 * Verifies a user's password, maintaining the failure counter and lockout. Used by login and
 * by the e-signature re-verification of sign-off (a wrong signature password counts too).
 * Returns the user when the password is right; throws the refusal otherwise. `context` names what
 * the password was for (the case being signed), so an auditor can link failed attempts to it.
 */
export async function checkPassword(
  prisma: PrismaClient,
  user: User,
  password: string,
  purpose: "login" | "signature",
  context: Prisma.InputJsonObject = {},
): Promise<User> {
  // The attempt is counted before the password is checked, and only while the account is unlocked
  // with fewer than MAX_FAILED_LOGINS attempts counted: guesses sent in parallel cannot all be
  // checked against a row read before the first of them failed.
  // Raw SQL, so that a right password leaves the row as it was (no updatedAt stamp); lockedUntil
  // holds UTC without a time zone, as Prisma writes it. The attempt that reaches MAX_FAILED_LOGINS
  // locks in the same statement, as failUnknownLogin's one statement locks an unknown login at the
  // fifth: guesses in flight behind it find the lock, whether or not its password check has ended.
  // Were the lock written after the check, a guess refused here could read the row before it and
  // be answered as a failed attempt where an unknown login's is answered as locked: a real
  // account's tell. Only that attempt locks (one auth.lockout); a right password lifts it (below).
  const [claimed] = await prisma.$queryRaw<{ failedLogins: number; locked: boolean }[]>`
    UPDATE "user" SET ${failedAttemptSet()}
    WHERE "id" = ${user.id}::uuid
      AND ("failedLogins" < ${MAX_FAILED_LOGINS} OR "lastFailedLoginAt" IS NULL OR "lastFailedLoginAt" <= ${COUNT_WINDOW_START})
      AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${NOW_UTC})
    RETURNING "failedLogins", "lockedUntil" IS NOT NULL AS locked`;
  if (!claimed) {
    // Refused, but only after a hash as costly as a real check: a quick answer would tell a
    // locked account from an unknown login (which pays the dummy hash) by its timing.
    await verifyPassword(await dummyPasswordHash(), password);
    // On the database's clock, which set the lock (LOCKED_UNTIL); read back as UTC.
    const [held] = await prisma.$queryRaw<{ lockedUntil: Date }[]>`
      SELECT "lockedUntil" AT TIME ZONE 'UTC' AS "lockedUntil" FROM "user" WHERE "id" = ${user.id}::uuid AND "lockedUntil" > ${NOW_UTC}`;
    if (held) lockedError(held.lockedUntil);
    // Refused by a lock that is gone by now (lifted by the right password of the attempt that set
    // it or by an administrator, or run out): answered as a failed attempt. A message of its own
    // would tell a real account (only theirs can be lifted early) from an unknown login.
    throw purpose === "login" ? unauthenticated("Invalid login or password") : badSignature();
  }
  const ok = await verifyPassword(user.passwordHash, password);
  if (ok) {
    await prisma.$executeRaw`UPDATE "user" SET "failedLogins" = 0, "lockedUntil" = NULL, "lastFailedLoginAt" = NULL WHERE "id" = ${user.id}::uuid`;
    return { ...user, failedLogins: 0, lockedUntil: null, lastFailedLoginAt: null };
  }
  const lock = claimed.locked;
  const failedLogins = lock ? MAX_FAILED_LOGINS : claimed.failedLogins;
  await prisma.$transaction(async (tx) => {
    if (lock) {
      // Set again, from the failure: the lock runs from the failed check, as an unknown login's
      // (locked after its dummy hash) does, and stands even if a right password typed meanwhile
      // lifted it.
      await tx.$executeRaw`UPDATE "user" SET "failedLogins" = 0, "lockedUntil" = ${LOCKED_UNTIL}, "updatedAt" = ${NOW_UTC} WHERE "id" = ${user.id}::uuid`;
    }
    await recordAudit(tx, { id: user.id, login: user.login }, {
      action: lock ? "auth.lockout" : `auth.${purpose}_failed`,
      entityType: "User",
      entityId: user.id,
      after: { failedLogins, ...context },
    });
  });
  if (lock) justLockedError();
  throw purpose === "login" ? unauthenticated("Invalid login or password") : badSignature();
}

/** A login typed, as stored and audited: an HMAC under the API's auth secret (never the login itself). */
function loginKey(env: Env, loginName: string): string {
  return createHmac("sha256", env.authSecret).update(`login:${loginName}`).digest("hex");
}

/**
 * A failed sign-in at a login with no enabled account (none by that name, or a disabled one):
 * counted and locked as checkPassword counts an account's, so that the answers do not tell which
 * logins exist. In the database (unknown_login_lockout), not in this process's memory: five
 * failures spread over several API processes, or over a restart, must lock too. Always throws.
 */
async function failUnknownLogin(prisma: PrismaClient, key: string): Promise<never> {
  // Rows whose window has passed say nothing that no row would not: deleted, so that a spray of
  // made-up logins leaves no more rows than one window's worth.
  await prisma.$executeRaw`
    DELETE FROM "unknown_login_lockout"
    WHERE "lastFailedLoginAt" <= ${COUNT_WINDOW_START} AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${NOW_UTC})`;
  // One statement counts the attempt and locks at the fifth, so attempts in parallel are counted
  // one by one; a locked row is left as it is (no row comes back).
  const [row] = await prisma.$queryRaw<{ locked: boolean }[]>`
    INSERT INTO "unknown_login_lockout" AS t ("loginKey", "failedLogins", "lastFailedLoginAt") VALUES (${key}, 1, ${NOW_UTC})
    ON CONFLICT ("loginKey") DO UPDATE SET ${failedAttemptSet(Prisma.raw("t."))}
    WHERE t."lockedUntil" IS NULL OR t."lockedUntil" <= ${NOW_UTC}
    RETURNING t."lockedUntil" IS NOT NULL AS locked`;
  if (row?.locked) justLockedError();
  if (!row) {
    // On the database's clock, which set the lock (LOCKED_UNTIL); read back as UTC.
    const [held] = await prisma.$queryRaw<{ lockedUntil: Date }[]>`
      SELECT "lockedUntil" AT TIME ZONE 'UTC' AS "lockedUntil" FROM "unknown_login_lockout" WHERE "loginKey" = ${key} AND "lockedUntil" > ${NOW_UTC}`;
    if (held) lockedError(held.lockedUntil);
  }
  throw unauthenticated("Invalid login or password");
}

/** Unknown-login events per LOCKOUT_MS, all logins together; past it, attempts go to one "overflow" key. */
export const MAX_UNKNOWN_LOGIN_EVENTS = 1000;
const OVERFLOW_KEY = "overflow";

/** Attempts not yet on record, per event key (this process's count; the oldest keys evicted first). */
const unrecordedAttempts = new Map<string, number>();
function countAttempts(key: string, by: number): void {
  const n = (unrecordedAttempts.get(key) ?? 0) + by;
  unrecordedAttempts.delete(key);
  if (n > 0) unrecordedAttempts.set(key, n);
  if (unrecordedAttempts.size > 10_000) unrecordedAttempts.delete(unrecordedAttempts.keys().next().value as string);
}

/**
 * 21 CFR 11.300(d): a sign-in at a login that does not exist is an attempt at unauthorized use,
 * so it is audited, in its own transaction. Not the login as typed: people type their password
 * into the login field, and the trail can never be edited. The event's entityId is an HMAC of it
 * under the API's auth secret (whoever holds the secret can test a candidate; a reader of the
 * trail or of an export cannot). At most one event per key per LOCKOUT_MS, and
 * MAX_UNKNOWN_LOGIN_EVENTS in all, so that a spray cannot flood the trail: an event's `attempts`
 * counts the attempts at its key since the previous event for it (as this API process saw them).
 */
async function recordUnknownLogin(prisma: PrismaClient, hashed: string, clientAddress: string | undefined): Promise<void> {
  countAttempts(hashed, 1);
  const written = await prisma.$transaction(async (tx) => {
    // "at" is the database's UTC clock (the chain trigger sets it): the window is read on that clock.
    const recent = async (key: string) => {
      // Serialises the check and the write for one key, across API processes too.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(72430041, hashtext(${key}))`;
      const rows = await tx.$queryRaw<unknown[]>`
        SELECT 1 FROM audit_event WHERE "entityId" = ${key} AND action = 'auth.login_unknown'
          AND at > (clock_timestamp() AT TIME ZONE 'UTC') - ${LOCKOUT_MS}::int * interval '1 millisecond' LIMIT 1`;
      return rows.length > 0;
    };
    let key = hashed;
    if (await recent(key)) return null;
    const [inWindow] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT 1 FROM audit_event WHERE action = 'auth.login_unknown'
        AND at > (clock_timestamp() AT TIME ZONE 'UTC') - ${LOCKOUT_MS}::int * interval '1 millisecond' LIMIT ${MAX_UNKNOWN_LOGIN_EVENTS}) s`;
    if (inWindow!.n >= MAX_UNKNOWN_LOGIN_EVENTS) {
      countAttempts(hashed, -1);
      countAttempts(OVERFLOW_KEY, 1);
      key = OVERFLOW_KEY;
      if (await recent(key)) return null;
    }
    const attempts = unrecordedAttempts.get(key) ?? 1;
    await recordAudit(tx, null, {
      action: "auth.login_unknown",
      entityType: "Login",
      entityId: key,
      after: { attempts, clientAddress: clientAddress ?? null },
    });
    return { key, attempts };
  });
  if (written) countAttempts(written.key, -written.attempts);
}

function justLockedError(): never {
  throw rateLimited("Too many failed attempts: account locked for 15 minutes");
}

function lockedError(until: Date): never {
  throw rateLimited(`Account locked after repeated failed attempts; try again after ${readableUtc(until)}`, {
    lockedUntil: until.toISOString(),
  });
}

/**
 * "17:42 UTC", with the date ("2026-11-28 17:42 UTC") unless it is today in UTC: a person reads
 * the message, a client the ISO time in extensions. Rounded up to the minute, so that trying
 * again at the time shown is never refused.
 */
export function readableUtc(at: Date, now = new Date()): string {
  const iso = new Date(Math.ceil(at.getTime() / 60_000) * 60_000).toISOString();
  const time = `${iso.slice(11, 16)} UTC`;
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

function badSignature() {
  // Not UNAUTHENTICATED: the session is still valid; only this signature attempt failed.
  return forbidden("Signature not verified: password incorrect");
}

/** `clientAddress`: the request's address, recorded with a failed sign-in at an unknown login. */
export async function login(prisma: PrismaClient, env: Env, typedLogin: string, password: string, clientAddress?: string): Promise<LoginResult> {
  // Logins are stored in lower case (createUser allows no other), and the signature step reads
  // the login typed there in any case: sign-in does too. The unknown-login count and its audit
  // key then take "Hema" and "hema" as the same login.
  const loginName = typedLogin.trim().slice(0, 200).toLowerCase();
  const user = await prisma.user.findUnique({ where: { login: loginName } });
  if (!user) {
    await verifyPassword(await dummyPasswordHash(), password); // same cost as a real check
    // Recorded before the lockout count, which throws once the login is locked: every attempt is counted.
    const key = loginKey(env, loginName);
    await recordUnknownLogin(prisma, key, clientAddress);
    return failUnknownLogin(prisma, key);
  }
  if (user.disabled) {
    // Answered as an unknown login, before the password is checked: a message of its own would
    // confirm to anyone that a former colleague's password (often reused) is right. The audit
    // trail, which only auditors and administrators read, records the attempt.
    await verifyPassword(await dummyPasswordHash(), password);
    // Recorded before the lockout count, which throws once the login is locked: every attempt is on record.
    await prisma.$transaction((tx) =>
      recordAudit(tx, { id: user.id, login: user.login }, { action: "auth.login_disabled", entityType: "User", entityId: user.id }),
    );
    return failUnknownLogin(prisma, loginKey(env, loginName));
  }
  const checked = await checkPassword(prisma, user, password, "login");
  await refuseExpiredTemporaryPassword(prisma, env, checked);
  const previous = await prisma.auditEvent.findFirst({ where: { entityId: user.id, action: "auth.login" }, orderBy: { seq: "desc" }, select: { at: true, seq: true } });
  // From the trail, not the row's count, which a lockout or a pause (COUNT_WINDOW_START) starts
  // again: each wrong password checked left one event (the one that locked, auth.lockout).
  const failedAttempts = await prisma.auditEvent.count({
    where: { entityId: user.id, action: { in: ["auth.login_failed", "auth.signature_failed", "auth.lockout"] }, ...(previous ? { seq: { gt: previous.seq } } : {}) },
  });
  await prisma.$transaction((tx) =>
    recordAudit(tx, { id: user.id, login: user.login }, { action: "auth.login", entityType: "User", entityId: user.id }),
  );
  // Opened now: a sign-in is for the session.
  const opened = await openSession(prisma, env, user);
  return {
    user: checked,
    mustChangePassword: mustChangePasswordNow(checked, env),
    session: async () => opened,
    previousSignIn: { at: previous?.at ?? null, failedAttempts },
  };
}

/**
 * A temporary password left unreplaced too long signs in no more (audited): an administrator sets
 * a new one. Not for an administrator when no other one could sign in to do that (the first
 * administrator of an install, whose password came from the environment; two who reset each
 * other's passwords and let both expire): the install would be locked out for good.
 */
async function refuseExpiredTemporaryPassword(prisma: PrismaClient, env: Env, user: User): Promise<void> {
  if (!temporaryPasswordExpired(user, env)) return;
  if (user.role === "ADMIN") {
    const othersWhoCanSignIn = await prisma.user.count({
      where: { role: "ADMIN", disabled: false, id: { not: user.id }, NOT: { mustChangePassword: true, passwordChangedAt: { lt: temporaryPasswordsSetBefore(env) } } },
    });
    if (othersWhoCanSignIn === 0) return;
  }
  await prisma.$transaction((tx) =>
    recordAudit(tx, { id: user.id, login: user.login }, {
      action: "auth.temporary_password_expired",
      entityType: "User",
      entityId: user.id,
      after: { passwordSetAt: user.passwordChangedAt.toISOString(), temporaryPasswordHours: env.temporaryPasswordHours },
    }),
  );
  // FORBIDDEN, not UNAUTHENTICATED: the dashboard shows it as it is, not as "wrong password" (it
  // tells only someone who typed the right password that the account exists).
  throw forbidden(`The password an administrator set for you was not replaced within ${env.temporaryPasswordHours} hours and has expired: ask an administrator to set a new one`, { reason: "temporary_password_expired" });
}
