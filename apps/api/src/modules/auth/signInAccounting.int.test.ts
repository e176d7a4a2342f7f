// A sign-in attempt's count (which drives the lockout) and its audit event commit together or not
// at all (21 CFR 11.300(d)): the database refusing one of them, as it would mid-way through a
// crash or a full disk, leaves the other unwritten too, and the client gets an error, never a
// silent success. The refusal is a test-only trigger on the real database.
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";
import { checkPassword, MAX_FAILED_LOGINS } from "./login.ts";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api?.close());

const LOGIN = `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token failedSignInsBefore } }`;

/**
 * Runs `run` while inserts and updates on `table` matching `when` (SQL over NEW, test values only)
 * are refused by the database.
 */
async function refusing<T>(table: "audit_event" | "unknown_login_lockout" | "api_session", when: string, run: () => Promise<T>): Promise<T> {
  const name = `refuse_for_test_${randomBytes(4).toString("hex")}`;
  await api.prisma.$executeRawUnsafe(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${when} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
  );
  await api.prisma.$executeRawUnsafe(`CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  try {
    return await run();
  } finally {
    await api.prisma.$executeRawUnsafe(`DROP TRIGGER ${name} ON ${table}`);
    await api.prisma.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
  }
}

const counters = (id: string) =>
  api.prisma.user.findUniqueOrThrow({ where: { id }, select: { failedLogins: true, lastFailedLoginAt: true, lockedUntil: true, updatedAt: true } });
const events = (entityId: string, action?: string) => api.prisma.auditEvent.count({ where: { entityId, ...(action ? { action } : {}) } });
const keyOf = (loginName: string) => createHmac("sha256", api.env.authSecret).update(`login:${loginName}`).digest("hex");
const internalError = { extensions: { code: "INTERNAL_SERVER_ERROR" } };

describe("an account's attempt and its audit event", () => {
  it("a wrong password whose audit event is refused is not counted, does not lock, and is answered as an error", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    expect((await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const once = await counters(user.id);
    expect(once.failedLogins).toBe(1);

    await refusing("audit_event", `NEW."entityId" = '${user.id}'`, async () => {
      const r = await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
      expect(r.errors?.[0]).toMatchObject(internalError);
      expect(r.data?.login ?? null).toBeNull();
      // A wrong signature password the same way.
      await expect(checkPassword(api.prisma, user, "wrong password!", "signature")).rejects.toThrow(/refused by the test/);
    });
    expect(await counters(user.id)).toEqual(once);
    expect(await events(user.id)).toBe(1);

    // The attempt that would lock: neither the lock nor its auth.lockout event.
    for (let i = 2; i < MAX_FAILED_LOGINS; i++) await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
    const fourth = await counters(user.id);
    expect(fourth).toMatchObject({ failedLogins: MAX_FAILED_LOGINS - 1, lockedUntil: null });
    await refusing("audit_event", `NEW."entityId" = '${user.id}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await counters(user.id)).toEqual(fourth);
    expect(await events(user.id, "auth.lockout")).toBe(0);

    // Once the trail takes it, the same attempt locks, with its event: count and trail agree.
    expect((await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" })).errors?.[0]?.message).toBe("Too many failed attempts: account locked for 15 minutes");
    expect((await counters(user.id)).lockedUntil).not.toBeNull();
    expect(await events(user.id, "auth.login_failed")).toBe(MAX_FAILED_LOGINS - 1);
    expect(await events(user.id, "auth.lockout")).toBe(1);
  });

  it("a right password whose sign-in event is refused neither resets the count nor opens a session", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    for (let i = 0; i < 2; i++) await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
    const before = await counters(user.id);
    await refusing("audit_event", `NEW."entityId" = '${user.id}' AND NEW.action = 'auth.login'`, async () => {
      const r = await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD });
      expect(r.errors?.[0]).toMatchObject(internalError);
      expect(r.data?.login ?? null).toBeNull();
    });
    expect(await counters(user.id)).toEqual(before);
    expect(await api.prisma.apiSession.count({ where: { userId: user.id } })).toBe(0);
    expect(await events(user.id, "auth.login")).toBe(0);
    // Its session refused (the database full, say): no sign-in on record either, nor a reset.
    await refusing("api_session", `NEW."userId" = '${user.id}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await counters(user.id)).toEqual(before);
    expect(await events(user.id, "auth.login")).toBe(0);
    // Then it signs in, with the count reset and the wrong passwords before it still told.
    expect((await api.gqlOk(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).login.failedSignInsBefore).toBe(2);
    expect((await counters(user.id)).failedLogins).toBe(0);
    expect(await api.prisma.apiSession.count({ where: { userId: user.id } })).toBe(1);
    expect(await events(user.id, "auth.login")).toBe(1);
  });
});

describe("a right password checked against an account changed meanwhile", () => {
  it("signs nobody in once the account was disabled, or given another password or role, while the old password was being checked", async () => {
    for (const change of ["disabled", "new password", "new role"] as const) {
      const { user } = await api.createUser("HEMATOLOGIST");
      await api.gql(null, LOGIN, { l: user.login, p: "wrong password!" });
      // The row as the check read it, before the administrator's change committed.
      const asChecked = await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      await api.prisma.user.update({
        where: { id: user.id },
        data: change === "disabled" ? { disabled: true } : change === "new role" ? { role: "AUDITOR" } : { passwordHash: `${asChecked.passwordHash}-replaced` },
      });
      const before = await counters(user.id);
      await expect(checkPassword(api.prisma, asChecked, TEST_PASSWORD, "login")).rejects.toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
      expect(await counters(user.id)).toEqual(before);
      expect(await events(user.id, "auth.login")).toBe(0);
    }
  });
});

describe("an unknown login's or a disabled account's attempt and its audit event", () => {
  const row = (key: string) => api.prisma.unknownLoginLockout.findUnique({ where: { loginKey: key } });

  it("a made-up login: its event refused, it is not counted; its count refused, it is not recorded", async () => {
    const ghost = `ghost-${randomBytes(4).toString("hex")}`;
    await refusing("audit_event", `NEW."entityId" = '${keyOf(ghost)}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: ghost, p: "wrong password!" })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await row(keyOf(ghost))).toBeNull();

    const other = `ghost-${randomBytes(4).toString("hex")}`;
    await refusing("unknown_login_lockout", `NEW."loginKey" = '${keyOf(other)}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: other, p: "wrong password!" })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await events(keyOf(other))).toBe(0);
    // Taken again, both are counted and recorded.
    for (const l of [ghost, other]) {
      expect((await api.gql(null, LOGIN, { l, p: "wrong password!" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(await row(keyOf(l))).toMatchObject({ failedLogins: 1 });
      expect(await events(keyOf(l), "auth.login_unknown")).toBe(1);
    }
  });

  it("a disabled account: its event refused, it is not counted; its count refused, it is not recorded", async () => {
    const { user } = await api.createUser("TECHNICIAN", { disabled: true });
    await refusing("audit_event", `NEW."entityId" = '${user.id}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await row(keyOf(user.login))).toBeNull();
    await refusing("unknown_login_lockout", `NEW."loginKey" = '${keyOf(user.login)}'`, async () => {
      expect((await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).errors?.[0]).toMatchObject(internalError);
    });
    expect(await events(user.id, "auth.login_disabled")).toBe(0);
    expect((await api.gql(null, LOGIN, { l: user.login, p: TEST_PASSWORD })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await row(keyOf(user.login))).toMatchObject({ failedLogins: 1 });
    expect(await events(user.id, "auth.login_disabled")).toBe(1);
  });
});
