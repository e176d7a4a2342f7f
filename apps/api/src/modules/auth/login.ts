// Sign-in with lockout (5 failures -> 15 min) and a generic message that does not tell whether
// the login exists. Failed attempts are audited (21 CFR 11.300(d): attempts at unauthorized use),
// each in the transaction that counts it: a count (which drives the lockout) and the trail can
// never disagree, whatever dies or refuses between them. A sign-in's reset of the count commits
// with its auth.login event the same way. Attempts refused by a lock are on record too (one event
// per account and source per lockout: recordLockedAttempt), and a sign-in's events name the
// client address it came from.
import { createHmac } from "node:crypto";
import { Prisma, type PrismaClient, type User } from "@rcmnet/db";
import type { Env } from "../../env.ts";
import { dummyPasswordHash, verifyPassword } from "../../auth/passwords.ts";
import { mustChangePasswordNow, temporaryPasswordExpired, temporaryPasswordsSetBefore } from "../../auth/passwordAge.ts";
import { openSessionIn } from "../../auth/sessions.ts";
import { forbidden, rateLimited, unauthenticated } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { addressKey } from "../../auth/rateLimit.ts";

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

/** A failed attempt's place in the count: within the window of the previous failure, else the first. */
function countedAttempt(row: Prisma.Sql = Prisma.empty): Prisma.Sql {
  return Prisma.sql`CASE WHEN ${row}"lastFailedLoginAt" > ${COUNT_WINDOW_START} THEN ${row}"failedLogins" + 1 ELSE 1 END`;
}

/**
 * How a failed attempt updates its row, for an account and an unknown login alike (one rule, so
 * their answers cannot drift apart): the attempt that reaches MAX_FAILED_LOGINS locks and starts
 * the count again. `row`: how the statement names the row as it was (`t.` in an upsert, nothing in
 * an UPDATE).
 */
function failedAttemptSet(row: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const counted = countedAttempt(row);
  return Prisma.sql`"failedLogins" = CASE WHEN ${counted} >= ${MAX_FAILED_LOGINS} THEN 0 ELSE ${counted} END,
      "lockedUntil" = CASE WHEN ${counted} >= ${MAX_FAILED_LOGINS} THEN ${LOCKED_UNTIL} END,
      "lastFailedLoginAt" = ${NOW_UTC}`;
}

/**
 * An account an attempt may still settle: unlocked, with fewer than MAX_FAILED_LOGINS attempts
 * counted in the window. Judged in the statement that settles the attempt, on the row as the
 * attempts settled before it left it: a burst of guesses cannot all be judged on a row read before
 * the first of them failed.
 */
const OPEN_TO_ATTEMPTS = Prisma.sql`("failedLogins" < ${MAX_FAILED_LOGINS} OR "lastFailedLoginAt" IS NULL OR "lastFailedLoginAt" <= ${COUNT_WINDOW_START})
      AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${NOW_UTC})`;

/** What Mutation.login and changeMyPassword answer (AuthPayload). */
export interface LoginResult {
  user: User;
  mustChangePassword: boolean;
  /** The session behind `token` and `expiresAt`, opened (and audited) before the answer resolves. */
  session: () => Promise<{ token: string; expiresAt: Date }>;
  /**
   * A sign-in's look back, for its owner: when the account last signed in, and the wrong passwords
   * typed for it since. Someone else's use of the account (an administrator who set its password
   * and signed in with it, say) shows there.
   */
  previousSignIn?: { at: Date | null; failedAttempts: number };
}

/**
 * Verifies a user's password, maintaining the failure counter and lockout. Used by login and
 * by the e-signature re-verification of sign-off (a wrong signature password counts too).
 * Returns the user when the password is right; throws the refusal otherwise. `context` names what
 * the password was for (the case being signed), so an auditor can link failed attempts to it; a
 * sign-in's names the client address.
 */
export async function checkPassword(
  prisma: PrismaClient,
  user: User,
  password: string,
  purpose: "login" | "signature",
  context: Prisma.InputJsonObject = {},
): Promise<User> {
  return settleAttempt(prisma, user, password, purpose, context, async (_tx, checked) => checked);
}

/**
 * checkPassword, with what a right password leads to (`onRight`: a sign-in's audit event) written
 * in the transaction that resets the count, and its answer returned.
 */
async function settleAttempt<T>(
  prisma: PrismaClient,
  user: User,
  password: string,
  purpose: "login" | "signature",
  context: Prisma.InputJsonObject,
  onRight: (tx: Prisma.TransactionClient, checked: User) => Promise<T>,
): Promise<T> {
  // Checked first, then settled in one short transaction: the count's update (and the lock it may
  // set) and its audit event commit together or not at all. The password is always hashed, locked
  // or not: the same cost as an unknown login's dummy hash, so the timing tells nothing.
  const ok = await verifyPassword(user.passwordHash, password);
  // Raw SQL, so that a right password leaves the row as it was (no updatedAt stamp); lockedUntil
  // holds UTC without a time zone, as Prisma writes it. Only the attempt whose own count reaches
  // MAX_FAILED_LOGINS locks (one auth.lockout, stamping updatedAt), in the statement that counts
  // it, as failUnknownLogin's statement locks an unknown login at the fifth: guesses settling
  // behind it find the lock, a real account's as an unknown login's. A right password settling
  // behind it is refused as they are: it signs in only while the account is open.
  type Settled = { outcome: "refused" } | { outcome: "right"; answer: T } | { outcome: "wrong"; locked: boolean };
  const settled = await prisma.$transaction(async (tx): Promise<Settled> => {
    if (ok) {
      // And only while the account is as the password was checked against: one disabled, given a
      // new password or another role while the old password was being hashed signs in no more (no
      // reset, no auth.login after the change on record, no token for a role it no longer has).
      const reset = await tx.$executeRaw`
        UPDATE "user" SET "failedLogins" = 0, "lockedUntil" = NULL, "lastFailedLoginAt" = NULL
        WHERE "id" = ${user.id}::uuid AND ${OPEN_TO_ATTEMPTS}
          AND NOT "disabled" AND "passwordHash" = ${user.passwordHash} AND "role" = ${user.role}::"Role"`;
      if (reset === 0) {
        await recordIfLocked(tx, user, purpose, context);
        return { outcome: "refused" };
      }
      return { outcome: "right", answer: await onRight(tx, { ...user, failedLogins: 0, lockedUntil: null, lastFailedLoginAt: null }) };
    }
    const [counted] = await tx.$queryRaw<{ failedLogins: number; locked: boolean }[]>`
      UPDATE "user" SET ${failedAttemptSet()},
        "updatedAt" = CASE WHEN ${countedAttempt()} >= ${MAX_FAILED_LOGINS} THEN ${NOW_UTC} ELSE "updatedAt" END
      WHERE "id" = ${user.id}::uuid AND ${OPEN_TO_ATTEMPTS}
      RETURNING "failedLogins", "lockedUntil" IS NOT NULL AS locked`;
    if (!counted) {
      await recordIfLocked(tx, user, purpose, context);
      return { outcome: "refused" };
    }
    await recordAudit(tx, { id: user.id, login: user.login }, {
      action: counted.locked ? "auth.lockout" : `auth.${purpose}_failed`,
      entityType: "User",
      entityId: user.id,
      after: { failedLogins: counted.locked ? MAX_FAILED_LOGINS : counted.failedLogins, ...context },
    });
    return { outcome: "wrong", locked: counted.locked };
  });
  if (settled.outcome === "refused") {
    // On the database's clock, which set the lock (LOCKED_UNTIL); read back as UTC.
    const [held] = await prisma.$queryRaw<{ lockedUntil: Date }[]>`
      SELECT "lockedUntil" AT TIME ZONE 'UTC' AS "lockedUntil" FROM "user" WHERE "id" = ${user.id}::uuid AND "lockedUntil" > ${NOW_UTC}`;
    if (held) lockedError(held.lockedUntil);
    // Refused by a lock that is gone by now (lifted by an administrator, or run out): answered as a
    // failed attempt. A message of its own would tell a real account (only theirs can be lifted
    // early) from an unknown login.
    throw purpose === "login" ? unauthenticated("Invalid login or password") : badSignature();
  }
  if (settled.outcome === "right") return settled.answer;
  if (settled.locked) justLockedError();
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
 * failures spread over several API processes, or over a restart, must lock too. `record` writes
 * the attempt's audit event in the transaction that counts it (every attempt, the locked ones
 * too); what it returns runs once that has committed. Always throws.
 */
async function failUnknownLogin(
  prisma: PrismaClient,
  key: string,
  record: (tx: Prisma.TransactionClient) => Promise<(() => void) | undefined>,
): Promise<never> {
  // Rows whose window has passed say nothing that no row would not: deleted, so that a spray of
  // made-up logins leaves no more rows than one window's worth. Housekeeping, not this attempt's
  // count: its own statement.
  await prisma.$executeRaw`
    DELETE FROM "unknown_login_lockout"
    WHERE "lastFailedLoginAt" <= ${COUNT_WINDOW_START} AND ("lockedUntil" IS NULL OR "lockedUntil" <= ${NOW_UTC})`;
  const { row, committed } = await prisma.$transaction(async (tx) => {
    // One statement counts the attempt and locks at the fifth, so attempts in parallel are counted
    // one by one; a locked row is left as it is (no row comes back). Before the audit event, whose
    // insert takes the trail's lock until commit: that lock is always the last one taken.
    const [row] = await tx.$queryRaw<{ locked: boolean }[]>`
      INSERT INTO "unknown_login_lockout" AS t ("loginKey", "failedLogins", "lastFailedLoginAt") VALUES (${key}, 1, ${NOW_UTC})
      ON CONFLICT ("loginKey") DO UPDATE SET ${failedAttemptSet(Prisma.raw("t."))}
      WHERE t."lockedUntil" IS NULL OR t."lockedUntil" <= ${NOW_UTC}
      RETURNING t."lockedUntil" IS NOT NULL AS locked`;
    return { row, committed: await record(tx) };
  });
  committed?.();
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
 * so it is audited, in `tx`, the transaction that counts it. Not the login as typed: people type
 * their password into the login field, and the trail can never be edited. The event's entityId is
 * an HMAC of it under the API's auth secret (whoever holds the secret can test a candidate; a
 * reader of the trail or of an export cannot). At most one event per key per LOCKOUT_MS, and
 * MAX_UNKNOWN_LOGIN_EVENTS in all, so that a spray cannot flood the trail: an event's `attempts`
 * counts the attempts at its key since the previous event for it (as this API process saw them).
 * Returns what to do once `tx` has committed.
 */
async function recordUnknownLogin(tx: Prisma.TransactionClient, hashed: string, clientAddress: string | undefined): Promise<(() => void) | undefined> {
  // Counted as not on record until an event carrying it has committed: an attempt whose
  // transaction failed is carried into the next event.
  countAttempts(hashed, 1);
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
  if (await recent(key)) return undefined;
  const [inWindow] = await tx.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM audit_event WHERE action = 'auth.login_unknown'
      AND at > (clock_timestamp() AT TIME ZONE 'UTC') - ${LOCKOUT_MS}::int * interval '1 millisecond' LIMIT ${MAX_UNKNOWN_LOGIN_EVENTS}) s`;
  if (inWindow!.n >= MAX_UNKNOWN_LOGIN_EVENTS) {
    countAttempts(hashed, -1);
    countAttempts(OVERFLOW_KEY, 1);
    key = OVERFLOW_KEY;
    if (await recent(key)) return undefined;
  }
  const attempts = unrecordedAttempts.get(key) ?? 1;
  await recordAudit(tx, null, {
    action: "auth.login_unknown",
    entityType: "Login",
    entityId: key,
    after: { attempts, clientAddress: clientAddress ?? null },
  });
  return () => countAttempts(key, -attempts);
}

/**
 * A refused attempt at an account that is locked (not open to attempts; not one refused because
 * the account changed while its password was being checked), recorded in `tx`, the transaction
 * that refused it.
 */
async function recordIfLocked(
  tx: Prisma.TransactionClient,
  user: User,
  purpose: "login" | "signature",
  context: Prisma.InputJsonObject,
): Promise<void> {
  const [locked] = await tx.$queryRaw<unknown[]>`SELECT 1 FROM "user" WHERE "id" = ${user.id}::uuid AND NOT (${OPEN_TO_ATTEMPTS})`;
  if (locked) await recordLockedAttempt(tx, user, purpose, context);
}

/** Sources (client networks, or cases) recorded per account and action per lockout, at most. */
export const MAX_LOCKED_SOURCES = 20;

/**
 * 21 CFR 11.300(d): an attempt at a locked account, a right password's as a wrong one's, is an
 * attempt at unauthorized use too, so it is audited (`auth.login_locked` naming the client address,
 * `auth.signature_locked` naming the case), bounded so that guesses by the hundred cannot flood the
 * trail: one event per account, action and source per lockout (the lock's LOCKOUT_MS), and at most
 * MAX_LOCKED_SOURCES sources. A client's source is its network as the sign-in limit counts it
 * (addressKey: an IPv6 client by its /64, whose addresses it may pick freely). The trail cannot be
 * edited, so it holds no running count: an event says that attempts came from that source during
 * that lockout, never a count that another source's event would carry. The event does not say
 * whether the password was right.
 */
async function recordLockedAttempt(
  tx: Prisma.TransactionClient,
  user: User,
  purpose: "login" | "signature",
  context: Prisma.InputJsonObject,
): Promise<void> {
  const action = `auth.${purpose}_locked`;
  const address = typeof context.clientAddress === "string" ? context.clientAddress : null;
  // What tells one source from another: the client's network, else the context (the case).
  const source: Prisma.InputJsonObject = address === null ? context : { clientNetwork: addressKey(address) };
  const after: Prisma.InputJsonObject = { ...context, ...source };
  // Serialises the check and the write for one account, across API processes too; the audit
  // insert after it takes the trail's lock, last.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(72430041, hashtext(${`${action}:${user.id}`}))`;
  // The lock began LOCKOUT_MS before it ends (LOCKED_UNTIL); "at" and lockedUntil are both the
  // database's UTC clock. An event of a previous lockout is older: a lock is set only once the
  // previous one has ended.
  const [seen] = await tx.$queryRaw<{ sources: number; recorded: boolean }[]>`
    SELECT count(*)::int AS sources, coalesce(bool_or(e.after @> ${JSON.stringify(source)}::jsonb), false) AS recorded
    FROM audit_event e JOIN "user" u ON u."id" = ${user.id}::uuid
    WHERE e."entityId" = ${user.id} AND e.action = ${action}
      AND e.at >= COALESCE(u."lockedUntil", ${NOW_UTC}) - ${LOCKOUT_MS}::int * interval '1 millisecond'`;
  if (seen?.recorded || (seen?.sources ?? 0) >= MAX_LOCKED_SOURCES) return;
  await recordAudit(tx, { id: user.id, login: user.login }, { action, entityType: "User", entityId: user.id, after });
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

/** `clientAddress`: the request's address, recorded with every failed sign-in (21 CFR 11.300(d)). */
export async function login(prisma: PrismaClient, env: Env, typedLogin: string, password: string, clientAddress?: string): Promise<LoginResult> {
  // Logins are stored in lower case (createUser allows no other), and the signature step reads
  // the login typed there in any case: sign-in does too. The unknown-login count and its audit
  // key then take "Hema" and "hema" as the same login.
  const loginName = typedLogin.trim().slice(0, 200).toLowerCase();
  const user = await prisma.user.findUnique({ where: { login: loginName } });
  if (!user) {
    await verifyPassword(await dummyPasswordHash(), password); // same cost as a real check
    const key = loginKey(env, loginName);
    return failUnknownLogin(prisma, key, (tx) => recordUnknownLogin(tx, key, clientAddress));
  }
  if (user.disabled) {
    // Answered as an unknown login, before the password is checked: a message of its own would
    // confirm to anyone that a former colleague's password (often reused) is right. The audit
    // trail, which only auditors and administrators read, records the attempt.
    await verifyPassword(await dummyPasswordHash(), password);
    // Every attempt is on record, the locked ones too, in the transaction that counts it.
    return failUnknownLogin(prisma, loginKey(env, loginName), (tx) =>
      recordAudit(tx, { id: user.id, login: user.login }, {
        action: "auth.login_disabled",
        entityType: "User",
        entityId: user.id,
        after: { clientAddress: clientAddress ?? null },
      }).then(() => undefined),
    );
  }
  // The right password's reset of the count commits with what it leads to: the sign-in's
  // auth.login event, or an expired temporary password's refusal.
  const signedIn = await settleAttempt(prisma, user, password, "login", { clientAddress: clientAddress ?? null }, async (tx, checked) => {
    if (await temporaryPasswordRefused(tx, env, checked)) return null;
    // The previous sign-in whose owner was shown this notice: not a session an API client opened
    // with a password change (changeMyPassword), whose answer tells no one of the wrong passwords
    // typed before it; those are still to tell.
    const [previous] = await tx.$queryRaw<{ at: Date; seq: bigint }[]>`
      SELECT "at", "seq" FROM audit_event
      WHERE "entityId" = ${user.id} AND action = 'auth.login' AND ("after" ->> 'via') IS DISTINCT FROM 'password change'
      ORDER BY "seq" DESC LIMIT 1`;
    // From the trail, not the row's count, which a lockout or a pause (COUNT_WINDOW_START) starts
    // again: each wrong password checked left one event (the one that locked, auth.lockout).
    const failedAttempts = await tx.auditEvent.count({
      where: { entityId: user.id, action: { in: ["auth.login_failed", "auth.signature_failed", "auth.lockout"] }, ...(previous ? { seq: { gt: previous.seq } } : {}) },
    });
    // The session before the event (the audit insert takes the trail's lock: last), in the same
    // transaction: a sign-in on record always has its session, and a session its sign-in.
    const opened = await openSessionIn(tx, env, checked);
    await recordAudit(tx, { id: user.id, login: user.login }, { action: "auth.login", entityType: "User", entityId: user.id });
    return { checked, opened, previousSignIn: { at: previous?.at ?? null, failedAttempts } };
  });
  // FORBIDDEN, not UNAUTHENTICATED: the dashboard shows it as it is, not as "wrong password" (it
  // tells only someone who typed the right password that the account exists).
  if (!signedIn) {
    throw forbidden(`The password an administrator set for you was not replaced within ${env.temporaryPasswordHours} hours and has expired: ask an administrator to set a new one`, { reason: "temporary_password_expired" });
  }
  const { opened } = signedIn;
  return {
    user: signedIn.checked,
    mustChangePassword: mustChangePasswordNow(signedIn.checked, env),
    session: async () => opened,
    previousSignIn: signedIn.previousSignIn,
  };
}

/**
 * A temporary password left unreplaced too long signs in no more (audited, in `tx`): an
 * administrator sets a new one. Not for an administrator when no other one could sign in to do
 * that (the first administrator of an install, whose password came from the environment; two who
 * reset each other's passwords and let both expire): the install would be locked out for good.
 * True when refused.
 */
async function temporaryPasswordRefused(tx: Prisma.TransactionClient, env: Env, user: User): Promise<boolean> {
  if (!temporaryPasswordExpired(user, env)) return false;
  if (user.role === "ADMIN") {
    const othersWhoCanSignIn = await tx.user.count({
      where: { role: "ADMIN", disabled: false, id: { not: user.id }, NOT: { mustChangePassword: true, passwordChangedAt: { lt: temporaryPasswordsSetBefore(env) } } },
    });
    if (othersWhoCanSignIn === 0) return false;
  }
  await recordAudit(tx, { id: user.id, login: user.login }, {
    action: "auth.temporary_password_expired",
    entityType: "User",
    entityId: user.id,
    after: { passwordSetAt: user.passwordChangedAt.toISOString(), temporaryPasswordHours: env.temporaryPasswordHours },
  });
  return true;
}
