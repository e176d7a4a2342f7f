import { createHmac, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";
import { issueToken } from "../../auth/tokens.ts";
import { closeIdleSessions } from "../../auth/sessions.ts";
import { checkPassword, login, LOCKOUT_MS, MAX_FAILED_LOGINS, MAX_LOCKED_SOURCES, MAX_UNKNOWN_LOGIN_EVENTS, readableUtc } from "./login.ts";
import { changeMyPassword } from "./changeMyPassword.ts";
import { resetUserPassword } from "../users/manageUsers.ts";
import { databaseNow } from "../../lib/databaseNow.ts";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api?.close());

const ME = `{ me { id login role } }`;
const LOGIN = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token expiresAt user { login role } } }`;

describe("authentication", () => {
  it("signs in and answers `me` with the bearer token", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const token = await api.login(user.login, TEST_PASSWORD);
    const data = await api.gqlOk(token, ME);
    expect(data.me).toEqual({ id: user.id, login: user.login, role: "HEMATOLOGIST" });
  });

  it("tells a sign-in when the account last signed in and how many wrong passwords were typed since", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const LOOK_BACK = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { previousSignInAt failedSignInsBefore } }`;
    const first = (await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login;
    expect(first).toEqual({ previousSignInAt: null, failedSignInsBefore: 0 });
    const signedIn = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: user.id, action: "auth.login" } });
    for (let i = 0; i < 2; i++) await api.gql(null, LOGIN, { l: user.login, p: "not the password" });
    const second = (await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login;
    expect(second).toEqual({ previousSignInAt: signedIn.at.toISOString(), failedSignInsBefore: 2 });
    // The count starts again from this sign-in.
    expect((await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login.failedSignInsBefore).toBe(0);
    // Guessing until the account locks resets the count; the lockout still tells, once it is over.
    for (let i = 0; i < 6; i++) await api.gql(null, LOGIN, { l: user.login, p: "not the password" });
    await api.prisma.user.update({ where: { id: user.id }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect((await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login.failedSignInsBefore).toBeGreaterThanOrEqual(5);
  });

  it("keeps telling wrong passwords typed before a password change whose API client took a new session (no one was shown them)", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const LOOK_BACK = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token previousSignInAt failedSignInsBefore } }`;
    const first = (await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login;
    const signedIn = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: user.id, action: "auth.login" } });
    for (let i = 0; i < 2; i++) await api.gql(null, LOGIN, { l: user.login, p: "not the password" });
    await api.gqlOk(first.token, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "a much better password") { token } }`);
    const next = (await api.gqlOk(null, LOOK_BACK, { l: user.login, p: "a much better password" })).login;
    expect({ previousSignInAt: next.previousSignInAt, failedSignInsBefore: next.failedSignInsBefore }).toEqual({ previousSignInAt: signedIn.at.toISOString(), failedSignInsBefore: 2 });
  });

  it("refuses a wrong password and an unknown login with the same message", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const wrong = await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
    const unknown = await api.gql(null, LOGIN, { l: "nobody", p: "wrong password!" });
    expect(wrong.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(unknown.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
  });

  it("answers a disabled account as an unknown login, right password or not, and records the attempt", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    await api.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
    const right = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
    const wrong = await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
    const unknown = await api.gql(null, LOGIN, { l: `nobody${Date.now()}`, p: TEST_PASSWORD });
    expect(right.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(right.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.login_disabled" } })).toBe(2);
  });

  it("locks the account after 5 failures, even for the right password", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    for (let i = 0; i < 4; i++) {
      expect((await api.gql(null, LOGIN, { l: user.login, p: "nope nope nope" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    expect((await api.gql(null, LOGIN, { l: user.login, p: "nope nope nope" })).errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    const right = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
    expect(right.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    const row = await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const audit = await api.prisma.auditEvent.findMany({ where: { entityId: user.id, action: "auth.lockout" } });
    expect(audit).toHaveLength(1);
  });

  it("counts at most 5 of many guesses sent at once, then locks", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const guesses = await Promise.allSettled(Array.from({ length: 12 }, () => checkPassword(api.prisma, user, "parallel guess", "login")));
    expect(guesses.every((g) => g.status === "rejected")).toBe(true);
    // Each counted guess leaves one audit event (failed or lockout); the rest, settled behind the lock, were refused.
    const checked = await api.prisma.auditEvent.count({ where: { entityId: user.id, action: { in: ["auth.login_failed", "auth.lockout"] } } });
    expect(checked).toBe(MAX_FAILED_LOGINS);
    const right = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
    expect(right.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  it("answers an unknown login's failures with the same lockout, so the lockout does not tell which logins exist", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const answers = async (login: string) => {
      const out: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await api.gql(null, LOGIN, { l: login, p: "nope nope nope" });
        out.push(`${r.errors?.[0]?.extensions?.code} ${r.errors?.[0]?.message?.replace(/again after .+$/, "again after <time>")}`);
      }
      return out;
    };
    const real = await answers(user.login);
    expect(real.slice(4)).toEqual([
      "RATE_LIMITED Too many failed attempts: account locked for 15 minutes",
      "RATE_LIMITED Account locked after repeated failed attempts; try again after <time>",
    ]);
    expect(await answers(`ghost${Date.now()}`)).toEqual(real);
  });

  it("words a lockout's end as a UTC time a person reads, keeping the ISO time in extensions", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const lockedUntil = new Date(Date.now() + 10 * 60_000);
    await api.prisma.user.update({ where: { id: user.id }, data: { failedLogins: 5, lockedUntil } });
    const r = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", lockedUntil: lockedUntil.toISOString() });
    expect(r.errors?.[0]?.message).toBe(`Account locked after repeated failed attempts; try again after ${readableUtc(lockedUntil)}`);
    expect(r.errors?.[0]?.message).toMatch(/try again after (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC$/);
    // The time alone today, with the date on another day; rounded up, so that the time shown is never too early.
    const now = new Date("2026-11-27T09:00:00Z");
    expect(readableUtc(new Date("2026-11-27T17:42:00.000Z"), now)).toBe("17:42 UTC");
    expect(readableUtc(new Date("2026-11-27T17:41:30.500Z"), now)).toBe("17:42 UTC");
    expect(readableUtc(new Date("2026-11-28T00:05:00.000Z"), now)).toBe("2026-11-28 00:05 UTC");
    expect(readableUtc(new Date("2026-11-27T23:59:30.000Z"), now)).toBe("2026-11-28 00:00 UTC");
  });

  it("signs in with the login typed in any case, as the signature step reads it (logins are stored in lower case)", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const token = await api.login(user.login.toUpperCase(), TEST_PASSWORD);
    expect((await api.gqlOk(token, ME)).me.id).toBe(user.id);
    // A wrong password typed under another case counts against the same account.
    await api.gql(null, LOGIN, { l: `${user.login[0]!.toUpperCase()}${user.login.slice(1)}`, p: "wrong password!" });
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).failedLogins).toBe(1);
  });

  it("refuses anonymous, forged, expired, malformed and revoked tokens with UNAUTHENTICATED", async () => {
    const { user } = await api.createUser("AUDITOR");
    const good = await api.login(user.login, TEST_PASSWORD);
    const claims = { sub: user.id, role: user.role, login: user.login, pwv: user.passwordChangedAt.getTime() };
    const forged = (await issueToken("another-secret-another-secret-another-secret", claims, 3600)).token;
    const expired = (await issueToken(api.env.authSecret, claims, -10)).token;
    const wrongRole = (await issueToken(api.env.authSecret, { ...claims, role: "ADMIN" }, 3600)).token;
    // Signed with the right key and the right claims, but never opened by a sign-in: no session.
    const noSession = (await issueToken(api.env.authSecret, claims, 3600)).token;
    const [header, , sig] = good.split(".");
    const alg_none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${good.split(".")[1]}.`;
    for (const token of [null, forged, expired, wrongRole, noSession, "garbage", `${header}..${sig}`, alg_none]) {
      const r = await api.gql(token, ME);
      expect(r.errors?.[0]?.extensions?.code, String(token)).toBe("UNAUTHENTICATED");
      expect(r.data?.me ?? null).toBeNull();
    }
    expect((await api.gql(expired, ME)).errors?.[0]?.message).toMatch(/expired/);
    // Disabling the account revokes the token it already holds.
    expect((await api.gql(good, ME)).errors).toBeUndefined();
    await api.prisma.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect((await api.gql(good, ME)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("signing out ends that token's session only, before it expires", async () => {
    const { user, password } = await api.createUser("HEMATOLOGIST");
    const a = await api.login(user.login, password);
    const b = await api.login(user.login, password);
    expect((await api.gqlOk(a, `mutation { logout }`)).logout).toBe(true);
    const replay = await api.gql(a, ME);
    expect(replay.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // The user's other session stays, and a session keeps only its token's digest.
    expect((await api.gqlOk(b, ME)).me.login).toBe(user.login);
    const rows = await api.prisma.apiSession.findMany({ where: { userId: user.id }, orderBy: { issuedAt: "asc" } });
    expect(rows.map((r) => r.endReason).sort()).toEqual(["LOGOUT", null]);
    for (const row of rows) {
      expect(row.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(row.tokenSha256).not.toContain(a.slice(0, 20));
      expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now());
    }
    // Signing out twice ends nothing more.
    expect((await api.gql(a, `mutation { logout }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.logout" } })).toBe(1);
    expect((await api.gql(null, `mutation { logout }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("a session unused past the idle timeout ends; background polls are checked but do not count as use", async () => {
    const { user, password } = await api.createUser("HEMATOLOGIST");
    const a = await api.login(user.login, password);
    const b = await api.login(user.login, password);
    const [sessionA] = await api.prisma.apiSession.findMany({ where: { userId: user.id }, orderBy: { issuedAt: "asc" }, take: 1 });
    const where = { tokenSha256: sessionA!.tokenSha256 };
    const lastSeen = async () => (await api.prisma.apiSession.findUniqueOrThrow({ where })).lastSeenAt.getTime();
    const idleFor = (minutes: number) => api.prisma.apiSession.update({ where, data: { lastSeenAt: new Date(Date.now() - minutes * 60_000) } });
    const poll = async (token: string) => {
      const res = await api.fetch("/graphql", { method: "POST", token, headers: { "content-type": "application/json", "x-rcmnet-background": "1" }, body: JSON.stringify({ query: ME }) });
      return (await res.json()) as { data?: { me: unknown }; errors?: { message: string; extensions: { code: string; reason?: string } }[] };
    };

    // Use inside the timeout (30 minutes here) keeps the session and moves lastSeenAt on.
    await idleFor(20);
    expect((await api.gqlOk(a, ME)).me.login).toBe(user.login);
    expect(Date.now() - (await lastSeen())).toBeLessThan(10_000);
    // A poll is answered but leaves lastSeenAt where it was.
    await idleFor(20);
    const before = await lastSeen();
    expect((await poll(a)).data?.me).toBeTruthy();
    expect(await lastSeen()).toBe(before);

    // Past the timeout (plus the minute lastSeenAt may lag), even a poll is refused, with the reason.
    // Five requests at once close the session once: one audit event, by the system, dated when the
    // timeout ran out rather than when it was noticed.
    await idleFor(32);
    const aged = await lastSeen();
    const refusals = await Promise.all([poll(a), poll(a), api.gql(a, ME), api.gql(a, ME), poll(a)]);
    for (const refused of refusals) {
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "idle" });
      expect(refused.errors?.[0]?.message).toMatch(/signed out after a period without activity/);
    }
    const closed = await api.prisma.apiSession.findUniqueOrThrow({ where });
    expect(closed.endReason).toBe("IDLE");
    expect(closed.endedAt!.getTime()).toBe(aged + 31 * 60_000);
    const events = await api.prisma.auditEvent.findMany({ where: { entityId: user.id, action: "auth.session_timeout" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorId: null, actorLogin: "system", after: { lastUsedAt: new Date(aged).toISOString(), idleTimeoutSeconds: 1800 } });
    // A closed session stays closed, whatever its lastSeenAt says later, and keeps saying why.
    await idleFor(0);
    expect((await api.gql(a, ME)).errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", reason: "idle" });
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.session_timeout" } })).toBe(1);
    // The user's other session is untouched.
    expect((await api.gqlOk(b, ME)).me.login).toBe(user.login);
  });

  it("closes sessions whose browser never comes back, once, and only those past the timeout", async () => {
    const { user, password } = await api.createUser("TECHNICIAN");
    await api.login(user.login, password);
    const kept = await api.login(user.login, password);
    const [left, live] = await api.prisma.apiSession.findMany({ where: { userId: user.id }, orderBy: { issuedAt: "asc" } });
    const lastUse = new Date(Date.now() - 45 * 60_000);
    await api.prisma.apiSession.update({ where: { tokenSha256: left!.tokenSha256 }, data: { lastSeenAt: lastUse } });
    await api.prisma.apiSession.update({ where: { tokenSha256: live!.tokenSha256 }, data: { lastSeenAt: new Date(Date.now() - 29 * 60_000) } });
    expect(await closeIdleSessions(api.prisma, api.env)).toBeGreaterThanOrEqual(1);
    expect(await api.prisma.apiSession.findUniqueOrThrow({ where: { tokenSha256: left!.tokenSha256 } })).toMatchObject({ endReason: "IDLE", endedAt: new Date(lastUse.getTime() + 31 * 60_000) });
    expect(await api.prisma.apiSession.findUniqueOrThrow({ where: { tokenSha256: live!.tokenSha256 } })).toMatchObject({ endedAt: null });
    await closeIdleSessions(api.prisma, api.env);
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.session_timeout" } })).toBe(1);
    expect((await api.gqlOk(kept, ME)).me.login).toBe(user.login);

    // A token that ran out its 8 hours while in use expired then: not recorded as left idle.
    await api.login(user.login, password);
    const worked = await api.prisma.apiSession.findFirstOrThrow({ where: { userId: user.id, endedAt: null }, orderBy: { issuedAt: "desc" } });
    const expiresAt = new Date(Date.now() - 20 * 60_000);
    await api.prisma.apiSession.update({ where: { tokenSha256: worked.tokenSha256 }, data: { lastSeenAt: new Date(Date.now() - 40 * 60_000), expiresAt } });
    await closeIdleSessions(api.prisma, api.env);
    expect(await api.prisma.apiSession.findUniqueOrThrow({ where: { tokenSha256: worked.tokenSha256 } })).toMatchObject({ endReason: "EXPIRED", endedAt: expiresAt });
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.session_expired" } })).toBe(1);
    expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.session_timeout" } })).toBe(1);
  });

  it("changing the password revokes older tokens", async () => {
    const { user } = await api.createUser("DATA_SCIENTIST");
    const old = await api.login(user.login, TEST_PASSWORD);
    const r = await api.gqlOk(old, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "a much better password") { token } }`);
    expect((await api.gql(old, ME)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await api.gqlOk(r.changeMyPassword.token, ME)).me.login).toBe(user.login);
  });

  it("refuses going back to one of the last 5 passwords, changing nothing; an older one is allowed again", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const CHANGE = `mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { token } }`;
    let token = await api.login(user.login, TEST_PASSWORD);
    const passwords = [TEST_PASSWORD, "first of my own phrases", "second of my own phrases", "third of my own phrases", "fourth of my own phrases", "fifth of my own phrases"];
    for (let i = 1; i < passwords.length; i++) {
      token = (await api.gqlOk(token, CHANGE, { c: passwords[i - 1], n: passwords[i] })).changeMyPassword.token;
    }
    // In force: the fifth. Its four predecessors are kept; the first (TEST_PASSWORD) has dropped out.
    const before = await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(before.passwordHistory).toHaveLength(4);
    const back = await api.gql(token, CHANGE, { c: passwords[5], n: passwords[2] });
    expect(back.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(back.errors?.[0]?.message).toBe("The new password must differ from your last 5 passwords");
    const after = await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect([after.passwordHash, after.passwordChangedAt, after.passwordHistory]).toEqual([before.passwordHash, before.passwordChangedAt, before.passwordHistory]);
    await api.gqlOk(token, CHANGE, { c: passwords[5], n: TEST_PASSWORD });
  });

  it("takes 10 password changes a minute from one user, so that refused ones cannot be repeated to burn the server's CPU", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const token = await api.login(user.login, TEST_PASSWORD);
    const codes: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await api.gql(token, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "Password123!") { token } }`);
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes.filter((c) => c === "BAD_USER_INPUT")).toHaveLength(10);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(2);
  });

  it("changing the password opens no session for a client that does not ask for the new token (the dashboard signs in again)", async () => {
    const { user } = await api.createUser("DATA_SCIENTIST");
    const old = await api.login(user.login, TEST_PASSWORD);
    const r = await api.gqlOk(old, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "a much better password") { mustChangePassword } }`);
    expect(r.changeMyPassword.mustChangePassword).toBe(false);
    // The old session ended with the old password, and none took its place.
    expect(await api.prisma.apiSession.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
    expect(await api.prisma.apiSession.count({ where: { userId: user.id } })).toBe(1);
  });

  it("changing the password opens a session for a client that asks for its token or expiry, and records it as a sign-in with the change", async () => {
    for (const [field, password] of [["expiresAt", "a much better password"], ["... on AuthPayload { t: token }", "an even better password"]] as const) {
      const { user } = await api.createUser("TECHNICIAN");
      const old = await api.login(user.login, TEST_PASSWORD);
      const before = await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.login" } });
      const r = await api.gqlOk(old, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "${password}") { ${field} } }`);
      expect(r.changeMyPassword).toBeTruthy();
      const open = await api.prisma.apiSession.findMany({ where: { userId: user.id, endedAt: null } });
      expect(open).toHaveLength(1);
      // The session's start is on record, after the change that ended the old one: an auditor
      // pairing sign-ins with sign-outs and timeouts finds one for every session.
      const events = await api.prisma.auditEvent.findMany({ where: { entityId: user.id }, orderBy: { seq: "asc" }, select: { action: true, after: true } });
      expect(events.slice(-2)).toMatchObject([{ action: "user.change_own_password" }, { action: "auth.login", after: { via: "password change" } }]);
      expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.login" } })).toBe(before + 1);
    }
  });

  it("changing the password does not overwrite an administrator's reset committed after the current password was checked (CONFLICT)", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const { user: adminUser } = await api.createUser("ADMIN");
    const asActor = (u: typeof user) => ({ id: u.id, login: u.login, displayName: u.displayName, role: u.role });
    // The reset lands after the current password was checked and the new one hashed, just before
    // the change's transaction: as an administrator's reset committed in that window would. (The
    // check settles in a transaction of its own, the first; the change's is the second.)
    let resets = 0;
    let transactions = 0;
    const racing = new Proxy(api.prisma, {
      get: (target, prop) => {
        if (prop === "$transaction" && ++transactions === 2) {
          return async (...args: unknown[]) => {
            resets++;
            await resetUserPassword(api.prisma, asActor(adminUser), { id: user.id, newPassword: "a temporary one from the admin", reason: "forgot it" });
            return (target.$transaction as (...a: unknown[]) => unknown)(...args);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const refused = changeMyPassword(racing, api.env, asActor(user), TEST_PASSWORD, "a much better password", { openSession: true });
    await expect(refused).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/changed or reset meanwhile/) });
    expect(resets).toBe(1);
    // The administrator's reset stands: their password signs in (to be changed), the one chosen against the old does not.
    const stored = await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(stored.mustChangePassword).toBe(true);
    expect((await api.gql(null, LOGIN, { l: user.login, p: "a much better password" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await api.gql(null, LOGIN, { l: user.login, p: "a temporary one from the admin" })).errors).toBeUndefined();
    expect(await api.prisma.auditEvent.count({ where: { action: "user.change_own_password", entityId: user.id } })).toBe(0);
  });

  it("a password older than RCMNET_PASSWORD_MAX_AGE_DAYS must be replaced before anything else (21 CFR 11.300(b))", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    await api.prisma.user.update({ where: { id: user.id }, data: { passwordChangedAt: new Date(Date.now() - 181 * 24 * 3600_000) } });
    const LOGIN_MUST = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token mustChangePassword passwordExpiresAt } }`;
    const first = (await api.gqlOk(null, LOGIN_MUST, { l: user.login, p: TEST_PASSWORD })).login;
    expect(first.mustChangePassword).toBe(true);
    // When it aged (a day ago), for a dashboard to ask again when one ages mid-session.
    expect(Date.now() - Date.parse(first.passwordExpiresAt)).toBeGreaterThan(23 * 3600_000);
    // Everything but changing it (and me, logout) is refused meanwhile.
    expect((await api.gql(first.token, `{ cases(first: 1) { nodes { id } } }`)).errors?.[0]?.message).toMatch(/password/i);
    const changed = (await api.gqlOk(first.token, `mutation { changeMyPassword(currentPassword: "${TEST_PASSWORD}", newPassword: "a fresh password for this year") { token mustChangePassword } }`)).changeMyPassword;
    expect(changed.mustChangePassword).toBe(false);
    expect((await api.gqlOk(changed.token, `{ cases(first: 1) { nodes { id } } }`)).cases).toBeDefined();
  });

  it("a temporary password not replaced within RCMNET_TEMPORARY_PASSWORD_HOURS signs in no more, audited", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await api.prisma.user.update({ where: { id: user.id }, data: { mustChangePassword: true, passwordChangedAt: new Date(Date.now() - 73 * 3600_000) } });
    const refused = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", reason: "temporary_password_expired" });
    expect(refused.errors?.[0]?.message).toMatch(/not replaced within 72 hours and has expired: ask an administrator/);
    expect(await api.prisma.auditEvent.count({ where: { action: "auth.temporary_password_expired", entityId: user.id } })).toBe(1);
    expect(await api.prisma.apiSession.count({ where: { userId: user.id } })).toBe(0);
    // Still fresh: signs in, to replace it.
    await api.prisma.user.update({ where: { id: user.id }, data: { passwordChangedAt: new Date(Date.now() - 71 * 3600_000) } });
    expect((await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).errors).toBeUndefined();
  });

  it("an administrator signs in with an expired temporary password when no other one could (two who reset each other's), to replace it", async () => {
    const [{ user: a }, { user: b }] = [await api.createUser("ADMIN"), await api.createUser("ADMIN")];
    const others = await api.prisma.user.findMany({ where: { role: "ADMIN", disabled: false, id: { notIn: [a.id, b.id] } }, select: { id: true } });
    await api.prisma.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: true } });
    try {
      const expired = { mustChangePassword: true, passwordChangedAt: new Date(Date.now() - 100 * 3600_000) };
      await api.prisma.user.updateMany({ where: { id: { in: [a.id, b.id] } }, data: expired });
      const r = await api.gqlOk(null, `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { mustChangePassword } }`, { l: a.login, p: TEST_PASSWORD });
      expect(r.login.mustChangePassword).toBe(true);
    } finally {
      await api.prisma.user.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { disabled: true } });
      await api.prisma.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: false } });
    }
  });

  it("the only enabled administrator signs in with an expired temporary password, to replace it (no one else could set one)", async () => {
    const { user } = await api.createUser("ADMIN");
    const others = await api.prisma.user.findMany({ where: { role: "ADMIN", disabled: false, id: { not: user.id } }, select: { id: true } });
    await api.prisma.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: true } });
    try {
      await api.prisma.user.update({ where: { id: user.id }, data: { mustChangePassword: true, passwordChangedAt: new Date(Date.now() - 100 * 3600_000) } });
      const r = await api.gqlOk(null, `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { mustChangePassword } }`, { l: user.login, p: TEST_PASSWORD });
      expect(r.login.mustChangePassword).toBe(true);
    } finally {
      await api.prisma.user.updateMany({ where: { id: { in: others.map((o) => o.id) } }, data: { disabled: false } });
    }
  });

  it("GET /health needs no token and reports the database", async () => {
    const res = await api.fetch("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: "up" });
  });
});

describe("sign-ins at unknown logins", () => {
  const unknownEvents = (entityId?: string) => api.prisma.auditEvent.findMany({ where: { action: "auth.login_unknown", ...(entityId ? { entityId } : {}) }, orderBy: { seq: "asc" } });
  const refused = (loginName: string) => login(api.prisma, api.env, loginName, "x", "203.0.113.7").then(() => "signed in", (e: { extensions?: { code?: string } }) => e.extensions?.code);

  it("are audited as the system, with a keyed hash of the login (never the login typed), once per login per lockout window", async () => {
    expect(await refused("nosuch")).toBe("UNAUTHENTICATED");
    const key = createHmac("sha256", api.env.authSecret).update("login:nosuch").digest("hex");
    const [event, ...more] = await unknownEvents(key);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ actorId: null, actorLogin: "system", entityType: "Login", entityId: key, after: { attempts: 1, clientAddress: "203.0.113.7" } });
    const [clear] = await api.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_event e WHERE e::text LIKE '%nosuch%'`;
    expect(clear!.n).toBe(0);
    // Retries within the window (through the lockout) add no rows; they are counted...
    for (let i = 0; i < 9; i++) expect(await refused("nosuch")).toMatch(/^(UNAUTHENTICATED|RATE_LIMITED)$/);
    expect(await unknownEvents(key)).toHaveLength(1);
    // ...into the next window's event. (The window is read on the database's clock: the event is
    // moved back past it behind the triggers' back, as only the tables' owner can.)
    await api.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`);
      await tx.$executeRaw`UPDATE audit_event SET at = at - ${LOCKOUT_MS + 60_000}::int * interval '1 millisecond' WHERE seq = ${event!.seq}`;
    });
    expect(await refused("nosuch")).toBe("RATE_LIMITED");
    expect((await unknownEvents(key)).map((e) => e.after)).toEqual([
      { attempts: 1, clientAddress: "203.0.113.7" },
      { attempts: 10, clientAddress: "203.0.113.7" },
    ]);
  });

  it("stop at MAX_UNKNOWN_LOGIN_EVENTS per window, all logins together: a spray of logins adds one more event", async () => {
    await api.prisma.$executeRaw`
      INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId", after)
      SELECT 'system', 'auth.login_unknown', 'Login', 'filler-' || i, '{"attempts":1}'::jsonb FROM generate_series(1, ${MAX_UNKNOWN_LOGIN_EVENTS}::int) i`;
    const before = await api.prisma.auditEvent.count();
    for (let i = 0; i < 5; i++) expect(await refused(`spray${i}`)).toBe("UNAUTHENTICATED");
    expect(await api.prisma.auditEvent.count()).toBe(before + 1);
    expect(await unknownEvents("overflow")).toMatchObject([{ after: { attempts: 1 } }]);
  });
});

describe("failed sign-ins at real accounts (21 CFR 11.300(d))", () => {
  const FROM = "203.0.113.9";
  const answer = (attempt: Promise<unknown>) => attempt.then(() => "signed in", (e: { extensions?: { code?: string } }) => String(e.extensions?.code));
  const attempt = (loginName: string, password: string) => answer(login(api.prisma, api.env, loginName, password, FROM));
  const trail = (entityId: string) => api.prisma.auditEvent.findMany({ where: { entityId }, orderBy: { seq: "asc" }, select: { action: true, after: true } });
  const counters = (id: string) =>
    api.prisma.user.findUniqueOrThrow({ where: { id }, select: { failedLogins: true, lastFailedLoginAt: true, lockedUntil: true, updatedAt: true } });
  const lock = async (loginName: string) => {
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await attempt(loginName, "nope nope nope");
  };

  it("name the client address on every failed attempt and on the lockout", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    expect(await trail(user.id)).toEqual([
      ...[1, 2, 3, 4].map((n) => ({ action: "auth.login_failed", after: { failedLogins: n, clientAddress: FROM } })),
      { action: "auth.lockout", after: { failedLogins: MAX_FAILED_LOGINS, clientAddress: FROM } },
    ]);
    // Through the API: the address it derives for the request (ctx.ip).
    const other = (await api.createUser("TECHNICIAN")).user;
    await api.gql(null, LOGIN, { l: other.login, p: "nope nope nope" });
    const [failed] = await trail(other.id);
    expect(failed).toMatchObject({ action: "auth.login_failed", after: { clientAddress: expect.stringMatching(/\d/) } });
  });

  it("record a wrong password at a locked account, naming the address, and leave the account as it was", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    const locked = await counters(user.id);
    expect(await attempt(user.login, "nope nope nope")).toBe("RATE_LIMITED");
    expect((await trail(user.id)).slice(MAX_FAILED_LOGINS)).toEqual([{ action: "auth.login_locked", after: { clientAddress: FROM, clientNetwork: FROM } }]);
    expect(await counters(user.id)).toEqual(locked);
  });

  it("refuse and record the right password at a locked account, without saying it was right", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    expect(await attempt(user.login, TEST_PASSWORD)).toBe("RATE_LIMITED");
    expect((await trail(user.id)).slice(MAX_FAILED_LOGINS)).toEqual([{ action: "auth.login_locked", after: { clientAddress: FROM, clientNetwork: FROM } }]);
    expect(await api.prisma.apiSession.count({ where: { userId: user.id } })).toBe(0);
  });

  it("record a signature attempt at a locked account with what it was for", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    const caseId = "00000000-0000-4000-8000-00000000abcd";
    expect(await answer(checkPassword(api.prisma, user, "nope nope nope", "signature", { caseId }))).toBe("RATE_LIMITED");
    expect(await api.prisma.auditEvent.findMany({ where: { entityId: user.id, action: "auth.signature_locked" }, select: { after: true } })).toEqual([{ after: { caseId } }]);
  });

  it("keep one event per source and lockout under a flood of guesses, each naming its own source", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    const locked = await counters(user.id);
    const guesses = 30;
    const answers = await Promise.all(Array.from({ length: guesses }, (_, i) => attempt(user.login, i % 5 ? "nope nope nope" : TEST_PASSWORD)));
    expect(answers.every((a) => a === "RATE_LIMITED")).toBe(true);
    const lockedEvents = () => api.prisma.auditEvent.findMany({ where: { entityId: user.id, action: "auth.login_locked" }, orderBy: { seq: "asc" }, select: { after: true } });
    // One event for the flood from one address; the account as the lock left it.
    expect(await lockedEvents()).toEqual([{ after: { clientAddress: FROM, clientNetwork: FROM } }]);
    expect(await counters(user.id)).toEqual(locked);
    // Another address in the same lockout is another source: its own event, its own address (an
    // attempt from one address never reads as from another).
    expect(await answer(login(api.prisma, api.env, user.login, "nope nope nope", "198.51.100.7"))).toBe("RATE_LIMITED");
    expect(await lockedEvents()).toEqual([{ after: { clientAddress: FROM, clientNetwork: FROM } }, { after: { clientAddress: "198.51.100.7", clientNetwork: "198.51.100.7" } }]);
    // The lock over (moved back, as if it had run out), five more wrong passwords lock again: the
    // next lockout's first attempt from the same address is recorded again.
    await api.prisma.user.update({ where: { id: user.id }, data: { lockedUntil: new Date(Date.now() - 1000), lastFailedLoginAt: new Date(Date.now() - LOCKOUT_MS - 1000) } });
    await lock(user.login);
    expect(await attempt(user.login, "nope nope nope")).toBe("RATE_LIMITED");
    expect(await lockedEvents()).toHaveLength(3);
  });

  it("count an IPv6 client by its /64 and record at most MAX_LOCKED_SOURCES sources per lockout, however many addresses or cases", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    await lock(user.login);
    const lockedEvents = (action: string) => api.prisma.auditEvent.count({ where: { entityId: user.id, action } });
    // Any address of one /64 is one source: the network, as the sign-in limit counts it.
    for (let i = 1; i <= 5; i++) expect(await answer(login(api.prisma, api.env, user.login, "nope nope nope", `2001:db8:1:2::${i}`))).toBe("RATE_LIMITED");
    expect(await lockedEvents("auth.login_locked")).toBe(1);
    // Many networks, or many cases for a signature: recorded up to the cap, then no more.
    for (let i = 1; i <= MAX_LOCKED_SOURCES + 5; i++) await answer(login(api.prisma, api.env, user.login, "nope nope nope", `2001:db8:${i + 100}::1`));
    expect(await lockedEvents("auth.login_locked")).toBe(MAX_LOCKED_SOURCES);
    for (let i = 0; i < MAX_LOCKED_SOURCES + 5; i++) await answer(checkPassword(api.prisma, user, "nope nope nope", "signature", { caseId: randomUUID() }));
    expect(await lockedEvents("auth.signature_locked")).toBe(MAX_LOCKED_SOURCES);
  });

  it("name the client address on a disabled account's attempt", async () => {
    const { user } = await api.createUser("TECHNICIAN", { disabled: true });
    expect(await attempt(user.login, TEST_PASSWORD)).toBe("UNAUTHENTICATED");
    expect(await trail(user.id)).toEqual([{ action: "auth.login_disabled", after: { clientAddress: FROM } }]);
  });
});

describe("failed sign-ins, counted for every API process (API_WORKERS) and over a restart", () => {
  // A fresh copy of login.ts and everything it imports, with its own module state: what another
  // API process, or this one restarted, runs. Only the database is shared.
  const aProcess = async () => {
    vi.resetModules();
    return (await import("./login.ts")).login;
  };
  type Login = Awaited<ReturnType<typeof aProcess>>;
  const answer = (process: Login, loginName: string) =>
    process(api.prisma, api.env, loginName, "nope nope nope").then(() => "signed in", (e: { extensions?: { code?: string } }) => String(e.extensions?.code));
  const rows = () => api.prisma.unknownLoginLockout.findMany();

  it("lock a made-up login, a disabled account and a real one alike when their attempts alternate between two processes", async () => {
    const [a, b] = [await aProcess(), await aProcess()];
    const { user } = await api.createUser("TECHNICIAN");
    const disabled = (await api.createUser("TECHNICIAN", { disabled: true })).user;
    const ghost = `ghost-${Date.now()}`;
    const seen: Record<string, string[]> = { real: [], ghost: [], disabled: [] };
    for (let i = 0; i < 7; i++) {
      const process = i % 2 ? b : a;
      seen.real!.push(await answer(process, user.login));
      seen.ghost!.push(await answer(process, ghost));
      seen.disabled!.push(await answer(process, disabled.login));
    }
    expect(seen.real).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);
    expect(seen.ghost).toEqual(seen.real);
    expect(seen.disabled).toEqual(seen.real);
  });

  it("keep the count over a restart, for a made-up login as for a real one", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const ghost = `restarted-${Date.now()}`;
    const before = await aProcess();
    for (let i = 0; i < 4; i++) {
      expect(await answer(before, user.login)).toBe("UNAUTHENTICATED");
      expect(await answer(before, ghost)).toBe("UNAUTHENTICATED");
    }
    const after = await aProcess();
    expect(await answer(after, user.login)).toBe("RATE_LIMITED");
    expect(await answer(after, ghost)).toBe("RATE_LIMITED");
  });

  it("keep a keyed hash of the login, never the login, and start again after a pause as an account's count does", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const ghost = `paused-${Date.now()}`;
    const key = createHmac("sha256", api.env.authSecret).update(`login:${ghost}`).digest("hex");
    for (let i = 0; i < 4; i++) {
      await api.gql(null, LOGIN, { l: user.login, p: "nope nope nope" });
      await api.gql(null, LOGIN, { l: ghost, p: "nope nope nope" });
    }
    expect(await api.prisma.unknownLoginLockout.findUniqueOrThrow({ where: { loginKey: key } })).toMatchObject({ failedLogins: 4, lockedUntil: null });
    const [clear] = await api.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM unknown_login_lockout r WHERE r::text LIKE ${`%${ghost}%`}`;
    expect(clear!.n).toBe(0);
    // The last failure a window ago: the fifth is the first of a new count, for both.
    const aWindowAgo = new Date(Date.now() - LOCKOUT_MS - 1000);
    await api.prisma.user.update({ where: { id: user.id }, data: { lastFailedLoginAt: aWindowAgo } });
    await api.prisma.unknownLoginLockout.update({ where: { loginKey: key }, data: { lastFailedLoginAt: aWindowAgo } });
    const fifth = [await api.gql(null, LOGIN, { l: user.login, p: "nope nope nope" }), await api.gql(null, LOGIN, { l: ghost, p: "nope nope nope" })];
    expect(fifth.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED"]);
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).failedLogins).toBe(1);
    expect((await api.prisma.unknownLoginLockout.findUniqueOrThrow({ where: { loginKey: key } })).failedLogins).toBe(1);
    // The owner's look back still counts every wrong password, before the pause too (the trail's count).
    const LOOK_BACK = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { failedSignInsBefore } }`;
    expect((await api.gqlOk(null, LOOK_BACK, { l: user.login, p: TEST_PASSWORD })).login.failedSignInsBefore).toBe(5);
  });

  it("delete a made-up login's row once its window has passed, so that a spray does not grow the table", async () => {
    const spray = Array.from({ length: 3 }, (_, i) => `spray-${Date.now()}-${i}`);
    for (const l of spray) await api.gql(null, LOGIN, { l, p: "nope nope nope" });
    const keys = spray.map((l) => createHmac("sha256", api.env.authSecret).update(`login:${l}`).digest("hex"));
    expect((await rows()).filter((r) => keys.includes(r.loginKey))).toHaveLength(3);
    // One of them a window old, another locked until now (its window passed with its lock).
    const past = new Date(Date.now() - LOCKOUT_MS - 1000);
    await api.prisma.unknownLoginLockout.update({ where: { loginKey: keys[0]! }, data: { lastFailedLoginAt: past } });
    await api.prisma.unknownLoginLockout.update({ where: { loginKey: keys[1]! }, data: { lastFailedLoginAt: past, failedLogins: 0, lockedUntil: new Date(Date.now() - 1000) } });
    // The next failed sign-in (through the API, as its database role) clears them.
    await api.gql(null, LOGIN, { l: `another-${Date.now()}`, p: "nope nope nope" });
    expect((await rows()).filter((r) => keys.includes(r.loginKey)).map((r) => r.loginKey)).toEqual([keys[2]]);
  });
});

describe("lockouts alike for real and made-up logins", () => {
  const answer = (attempt: Promise<unknown>) =>
    attempt.then(() => ({ code: "signed in", lockedUntil: undefined }), (e: { extensions?: { code?: string; lockedUntil?: string } }) => ({ code: String(e.extensions?.code), lockedUntil: e.extensions?.lockedUntil }));
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answer wrong passwords sent at once the same: the attempt that reaches the count locks, alone", async () => {
    const codes = async (loginName: string, attempts: number) => {
      // Each attempt's first transaction (the one that counts it and records it) waits until
      // MAX_FAILED_LOGINS have come to it: the password checks ending together, the widest race
      // (left to chance, it is often narrower). Attempts beyond those come after the release.
      let arrived = 0;
      let release!: () => void;
      const together = new Promise<void>((r) => (release = r));
      const prisma = new Proxy(api.prisma, {
        get: (target, prop) => {
          if (prop === "$transaction") {
            return async (...args: unknown[]) => {
              if (++arrived === MAX_FAILED_LOGINS) release();
              await together;
              return (target.$transaction as (...a: unknown[]) => unknown)(...args);
            };
          }
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const all = await Promise.all(Array.from({ length: attempts }, () => answer(login(prisma, api.env, loginName, "parallel guess"))));
      return all.map((a) => a.code).sort();
    };
    // At the count, and past it: the guesses behind the one that locks are answered as locked, a
    // real account's as a made-up login's.
    for (const attempts of [MAX_FAILED_LOGINS, MAX_FAILED_LOGINS + 1, MAX_FAILED_LOGINS + 3]) {
      const { user } = await api.createUser("TECHNICIAN");
      const real = await codes(user.login, attempts);
      expect(real, `${attempts} at once`).toEqual([
        ...Array<string>(attempts - MAX_FAILED_LOGINS + 1).fill("RATE_LIMITED"),
        ...Array<string>(MAX_FAILED_LOGINS - 1).fill("UNAUTHENTICATED"),
      ]);
      expect(await codes(`parallel-${attempts}-${Date.now()}`, attempts), `${attempts} at once`).toEqual(real);
      expect(await api.prisma.auditEvent.count({ where: { entityId: user.id, action: "auth.lockout" } })).toBe(1);
    }
  });

  it("lock for LOCKOUT_MS by the database's clock, sign-in and signature alike, whatever this host's clock says", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const signer = (await api.createUser("HEMATOLOGIST")).user;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000); // this host an hour ahead of the database
    // Locked by MAX_FAILED_LOGINS wrong passwords; the next attempt answers until when.
    const lockedUntil = async (attempt: () => Promise<unknown>) => {
      for (let i = 0; i < MAX_FAILED_LOGINS; i++) await answer(attempt());
      const next = await answer(attempt());
      expect(next.code).toBe("RATE_LIMITED");
      return Date.parse(next.lockedUntil!);
    };
    const until = [
      await lockedUntil(() => login(api.prisma, api.env, user.login, "nope nope nope")),
      await lockedUntil(() => login(api.prisma, api.env, `skewed-${Date.now()}`, "nope nope nope")),
      await lockedUntil(() => checkPassword(api.prisma, signer, "nope nope nope", "signature")),
    ];
    const expected = (await databaseNow(api.prisma)).getTime() + LOCKOUT_MS;
    for (const u of until) expect(Math.abs(u - expected)).toBeLessThan(60_000);
  });
});
