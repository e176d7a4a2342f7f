import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";
import { databaseFingerprint } from "../../testing/fixtures.ts";

let api: TestApi;
let admin: string;
let adminId: string;
beforeAll(async () => {
  api = await createTestApi();
  const a = await api.createUser("ADMIN");
  adminId = a.user.id;
  admin = await api.login(a.user.login, a.password);
});
afterAll(() => api?.close());

const CREATE = `mutation($i: CreateUserInput!) { createUser(input: $i) { id login role disabled } }`;

describe("user administration", () => {
  it("creates users, refuses duplicates and weak passwords, audits without the password hash", async () => {
    const r = await api.gqlOk(admin, CREATE, { i: { login: "newtech", displayName: "New Tech", role: "TECHNICIAN", password: "long enough password", reason: "joined the lab" } });
    expect(r.createUser).toMatchObject({ login: "newtech", role: "TECHNICIAN", disabled: false });
    const token = await api.login("newtech", "long enough password");
    expect((await api.gqlOk(token, `{ me { role } }`)).me.role).toBe("TECHNICIAN");
    const dup = await api.gql(admin, CREATE, { i: { login: "newtech", displayName: "Xavier", role: "TECHNICIAN", password: "long enough password", reason: "joined the lab" } });
    expect(dup.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const weak = await api.gql(admin, CREATE, { i: { login: "weak", displayName: "Weak", role: "AUDITOR", password: "short", reason: "joined the lab" } });
    expect(weak.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const badRole = await api.gql(admin, CREATE, { i: { login: "weak", displayName: "Weak", role: "ROOT", password: "long enough password", reason: "joined the lab" } });
    expect(badRole.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.create", entityId: r.createUser.id } });
    expect(JSON.stringify(audit.after)).not.toMatch(/argon|passwordHash/);
  });

  it("records why an account was made, and refuses one without a reason, creating nothing", async () => {
    const r = await api.gqlOk(admin, CREATE, { i: { login: "whytech", displayName: "Why Tech", role: "TECHNICIAN", password: "long enough password", reason: "  hired for the night shift " } });
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.create", entityId: r.createUser.id } });
    expect(event).toMatchObject({ actorId: adminId, reason: "hired for the night shift" });
    const users = await api.prisma.user.count();
    // Left out (the schema requires it) or too short (the rule of every other account change).
    const missing = await api.gql(admin, CREATE, { i: { login: "noreason", displayName: "No Reason", role: "AUDITOR", password: "long enough password" } });
    expect(missing.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const short = await api.gql(admin, CREATE, { i: { login: "noreason", displayName: "No Reason", role: "AUDITOR", password: "long enough password", reason: " x " } });
    expect(short.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(short.errors?.[0]?.message).toMatch(/reason/);
    expect(await api.prisma.user.count()).toBe(users);
  });

  it("refuses the login \"system\", the trail's name for the platform's own actions, in any case; so does the database", async () => {
    const before = await databaseFingerprint(api.prisma);
    for (const login of ["system", " SYSTEM "]) {
      const r = await api.gql(admin, CREATE, { i: { login, displayName: "Not The Platform", role: "HEMATOLOGIST", password: "long enough password", reason: "looks like the system" } });
      expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message).toMatch(/reserved/);
    }
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // A writer that goes around the API meets the table's insert trigger (a login is never changed: another trigger).
    await expect(api.prisma.user.create({ data: { login: "system", displayName: "Around The API", passwordHash: "x", role: "AUDITOR" } })).rejects.toThrow(/reserved for the platform/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // An install whose account took the name before the rule can still disable it (and count the
    // attempts at it): only inserts are refused. Rolled back: the account is never kept.
    const rolledBack = new Error("rolled back");
    await expect(
      api.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`ALTER TABLE "user" DISABLE TRIGGER user_login_reserved`);
        const old = await tx.user.create({ data: { login: "system", displayName: "Before The Rule", passwordHash: "x", role: "AUDITOR" } });
        await tx.$executeRawUnsafe(`ALTER TABLE "user" ENABLE TRIGGER user_login_reserved`);
        await tx.user.update({ where: { id: old.id }, data: { disabled: true, failedLogins: 1 } });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });

  it("refuses a display name an enabled account has (trimmed, any case), which signatures could not tell apart; a disabled account's may be reused", async () => {
    const first = (await api.gqlOk(admin, CREATE, { i: { login: "jdoe", displayName: "Dr. Jane Doe", role: "HEMATOLOGIST", password: "long enough password", reason: "new hematologist" } })).createUser;
    const users = await api.prisma.user.count();
    const audit = await api.prisma.auditEvent.count();
    // Spaces, case and Unicode forms a printed name does not show.
    const twin = await api.gql(admin, CREATE, { i: { login: "jdoe2", displayName: "  dr.  JANE\u00a0doe ", role: "HEMATOLOGIST", password: "long enough password", reason: "new hematologist" } });
    expect(twin.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(twin.errors?.[0]?.message).toBe('The enabled account jdoe is already named "dr. JANE doe": choose a name that tells them apart on a signature (a middle initial, say)');
    expect([await api.prisma.user.count(), await api.prisma.auditEvent.count()]).toEqual([users, audit]);
    // A middle initial tells them apart.
    await api.gqlOk(admin, CREATE, { i: { login: "jdoe3", displayName: "Dr. Jane R. Doe", role: "HEMATOLOGIST", password: "long enough password", reason: "new hematologist" } });
    // Once the first has left, a namesake may join.
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${first.id}", disabled: true, reason: "left the lab") { id } }`);
    // A login typed in capitals is kept in lower case, as sign-in reads it.
    const second = (await api.gqlOk(admin, CREATE, { i: { login: "JDoe2", displayName: "Dr. Jane Doe", role: "HEMATOLOGIST", password: "long enough password", reason: "new hematologist" } })).createUser;
    expect(second.login).toBe("jdoe2");
    // Nor may the first come back under the name the second now signs with; disabling twice is refused too.
    const back = await api.gql(admin, `mutation { setUserDisabled(id: "${first.id}", disabled: false, reason: "came back") { id } }`);
    expect(back.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: first.id } })).disabled).toBe(true);
    const twice = await api.gql(admin, `mutation { setUserDisabled(id: "${first.id}", disabled: true, reason: "left the lab") { id } }`);
    expect(twice.errors?.[0]?.message).toBe("jdoe is already disabled");
  });

  it("disable revokes tokens; enable, reset password and role change work and are audited with reasons", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const token = await api.login(user.login, TEST_PASSWORD);
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: true, reason: "left the lab") { id } }`);
    expect((await api.gql(token, `{ me { id } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await api.gql(null, `mutation { login(login: "${user.login}", password: "${TEST_PASSWORD}") { token } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: false, reason: "came back") { id } }`);
    await api.gqlOk(admin, `mutation { resetUserPassword(id: "${user.id}", newPassword: "brand new password", reason: "forgot it") { id } }`);
    const t2 = await api.login(user.login, "brand new password");
    // The password replaced is kept for the history check, and no hash reaches the trail.
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHistory).toHaveLength(1);
    const reset = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.reset_password", entityId: user.id } });
    expect(JSON.stringify([reset.before, reset.after])).not.toMatch(/argon|passwordHash|passwordHistory/);
    await api.gqlOk(admin, `mutation { changeUserRole(id: "${user.id}", role: AUDITOR, reason: "moved to QA") { role } }`);
    expect((await api.gql(t2, `{ me { id } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const actions = (await api.prisma.auditEvent.findMany({ where: { entityId: user.id, actorId: adminId }, orderBy: { seq: "asc" } })).map((e) => [e.action, e.reason]);
    expect(actions).toEqual([
      ["user.disable", "left the lab"],
      ["user.enable", "came back"],
      ["user.reset_password", "forgot it"],
      ["user.change_role", "moved to QA"],
    ]);
  });

  it("enabling a locked-out user records the lockout it clears", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const lockedUntil = new Date(Date.now() + 10 * 60_000);
    await api.prisma.user.update({ where: { id: user.id }, data: { failedLogins: 3, lockedUntil } });
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: true, reason: "on leave") { id } }`);
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: false, reason: "back from leave") { id } }`);
    const enabled = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.enable", entityId: user.id } });
    expect(enabled.before).toEqual({ disabled: true, failedLogins: 3, lockedUntil: lockedUntil.toISOString() });
    expect(enabled.after).toEqual({ disabled: false, failedLogins: 0, lockedUntil: null });
  });

  it("refuses to enable an account that is enabled, writing nothing (no event, the lockout kept for Unlock)", async () => {
    const { user } = await api.createUser("TECHNICIAN");
    const lockedUntil = new Date(Date.now() + 10 * 60_000);
    const before = await api.prisma.user.update({ where: { id: user.id }, data: { failedLogins: 5, lockedUntil } });
    const audit = await api.prisma.auditEvent.count();
    const r = await api.gql(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: false, reason: "just in case") { id } }`);
    expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0]?.message).toBe(`${user.login} is already enabled`);
    expect(await api.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toEqual(before);
    expect(await api.prisma.auditEvent.count()).toBe(audit);
  });

  it("refuses changes to an admin's own account, and cannot remove the last enabled admin", async () => {
    const before = await api.prisma.user.findUniqueOrThrow({ where: { id: adminId } });
    const others = await api.prisma.user.count({ where: { role: "ADMIN", disabled: false, id: { not: adminId } } });
    expect(others).toBe(0);
    // Own account: another admin decides (a hijacked admin session cannot take the account over).
    for (const mutation of [
      `setUserDisabled(id: "${adminId}", disabled: true, reason: "oops") { id }`,
      `changeUserRole(id: "${adminId}", role: AUDITOR, reason: "oops") { id }`,
      `resetUserPassword(id: "${adminId}", newPassword: "an attacker's password", reason: "oops") { id }`,
      `unlockUser(id: "${adminId}", reason: "oops") { id }`,
    ]) {
      const r = await api.gql(admin, `mutation { ${mutation} }`);
      expect(r.errors?.[0]?.extensions?.code, mutation).toBe("FORBIDDEN");
      expect(r.errors?.[0]?.message).toMatch(/cannot disable, reset, unlock or re-role their own account/);
      // Nor by spelling the id in upper case (PostgreSQL reads it as the same uuid): not an id here.
      const shouted = await api.gql(admin, `mutation { ${mutation.replace(adminId, adminId.toUpperCase())} }`);
      expect(shouted.errors?.[0]?.extensions?.code, mutation).toBe("NOT_FOUND");
    }
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: adminId } })).passwordHash).toBe(before.passwordHash);
    // The last-admin guard holds below the API too (an actor demoted while its request runs).
    const { setUserDisabled, changeUserRole } = await import("./manageUsers.ts");
    const stale = { id: "00000000-0000-4000-8000-000000000001", login: "demoted", displayName: "Demoted", role: "ADMIN" as const };
    await expect(setUserDisabled(api.prisma, stale, { id: adminId, disabled: true, reason: "oops" })).rejects.toThrow(/last enabled admin/);
    await expect(changeUserRole(api.prisma, stale, { id: adminId, role: "AUDITOR", reason: "oops" })).rejects.toThrow(/last enabled admin/);
    expect(await api.prisma.user.findUniqueOrThrow({ where: { id: adminId } })).toEqual(before);
    const missing = await api.gql(admin, `mutation { changeUserRole(id: "nope", role: AUDITOR, reason: "x y z") { id } }`);
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("an account change ends the user's sessions for good: enabling again or changing the role back revives no token", async () => {
    const { user } = await api.createUser("HEMATOLOGIST");
    const ME = `{ me { id } }`;
    const disabledToken = await api.login(user.login, TEST_PASSWORD);
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: true, reason: "on leave") { id } }`);
    await api.gqlOk(admin, `mutation { setUserDisabled(id: "${user.id}", disabled: false, reason: "back from leave") { id } }`);
    expect((await api.gql(disabledToken, ME)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const roleToken = await api.login(user.login, TEST_PASSWORD);
    await api.gqlOk(admin, `mutation { changeUserRole(id: "${user.id}", role: AUDITOR, reason: "covering QA") { id } }`);
    await api.gqlOk(admin, `mutation { changeUserRole(id: "${user.id}", role: HEMATOLOGIST, reason: "back to the bench") { id } }`);
    expect((await api.gql(roleToken, ME)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const sessions = await api.prisma.apiSession.findMany({ where: { userId: user.id } });
    expect(sessions.map((s) => s.endReason)).toEqual(["REVOKED", "REVOKED"]);
    const disable = await api.prisma.auditEvent.findFirstOrThrow({ where: { entityId: user.id, action: "user.disable" } });
    expect(disable.after).toEqual({ disabled: true, sessionsEnded: 1 });
  });

  it("a password an administrator set allows only replacing it, until its owner does", async () => {
    const created = (await api.gqlOk(admin, CREATE, { i: { login: "temphema", displayName: "Temp Hema", role: "HEMATOLOGIST", password: "the admin knows this", reason: "new hematologist" } })).createUser;
    const token = await api.login("temphema", "the admin knows this");
    const before = await api.prisma.auditEvent.count();
    const cases = await api.gql(token, `{ cases(first: 1) { nodes { id } } }`);
    expect(cases.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", reason: "password_change_required" });
    expect(cases.errors?.[0]?.message).toMatch(/Choose a new password \(Account\) before anything else: yours was set by an administrator/);
    const image = await api.fetch(`/cells/00000000-0000-4000-8000-000000000000/gradcam`, { token });
    expect(image.status).toBe(403);
    expect(await api.prisma.auditEvent.count()).toBe(before);
    expect((await api.gqlOk(token, `{ me { id } }`)).me.id).toBe(created.id);
    const changed = await api.gqlOk(token, `mutation { changeMyPassword(currentPassword: "the admin knows this", newPassword: "only mine from now on") { token } }`);
    expect((await api.gqlOk(changed.changeMyPassword.token, `{ cases(first: 1) { nodes { id } } }`)).cases).toBeTruthy();
    // The old session ended with the old password.
    expect((await api.gql(token, `{ me { id } }`)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("unlocks a locked-out account, audited, keeping its password; shows who still has a temporary password", async () => {
    const { user, password } = await api.createUser("TECHNICIAN");
    const lockedUntil = new Date(Date.now() + 10 * 60_000);
    await api.prisma.user.update({ where: { id: user.id }, data: { failedLogins: 5, lockedUntil } });
    const locked = await api.gql(null, `mutation { login(login: "${user.login}", password: "${password}") { token } }`);
    expect(locked.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    const r = await api.gqlOk(admin, `mutation { unlockUser(id: "${user.id}", reason: "called the help desk") { lockedUntil } }`);
    expect(r.unlockUser.lockedUntil).toBeNull();
    expect(await api.login(user.login, password)).toMatch(/\./);
    const event = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.unlock", entityId: user.id } });
    expect(event).toMatchObject({ reason: "called the help desk", before: { failedLogins: 5, lockedUntil: lockedUntil.toISOString() }, after: { failedLogins: 0, lockedUntil: null } });
    // Unlocking an account that is not locked changes and records nothing.
    const count = await api.prisma.auditEvent.count();
    await api.gqlOk(admin, `mutation { unlockUser(id: "${user.id}", reason: "just in case") { id } }`);
    expect(await api.prisma.auditEvent.count()).toBe(count);
    expect((await api.gql(admin, `mutation { unlockUser(id: "${user.id}", reason: "") { id } }`)).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    // A password the admin set shows as temporary to admins, not to other readers.
    const made = (await api.gqlOk(admin, CREATE, { i: { login: "tempshow", displayName: "Temp Show", role: "AUDITOR", password: "set by the admin", reason: "new auditor" } })).createUser;
    const listed = (await api.gqlOk(admin, `{ users(first: 200) { nodes { id mustChangePassword } } }`)).users.nodes;
    expect(listed.find((u: { id: string }) => u.id === made.id).mustChangePassword).toBe(true);
    expect(listed.find((u: { id: string }) => u.id === user.id).mustChangePassword).toBe(false);
  });

  it("lists users with cursor pagination", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await api.gqlOk(admin, `query($a: String) { users(first: 2, after: $a, includeDisabled: true) { nodes { login } pageInfo { endCursor hasNextPage } } }`, { a: after });
      seen.push(...r.users.nodes.map((n: { login: string }) => n.login));
      if (!r.users.pageInfo.hasNextPage) break;
      after = r.users.pageInfo.endCursor;
    }
    const all = await api.prisma.user.findMany({ orderBy: { login: "asc" } });
    expect(seen).toEqual(all.map((u) => u.login));
  });

  it("shows a lockout only to admins, auditors and the account itself, not to every reader of a record", async () => {
    const locked = await api.createUser("TECHNICIAN");
    const lockedToken = await api.login(locked.user.login, locked.password);
    const until = new Date(Date.now() + 10 * 60_000);
    await api.prisma.user.update({ where: { id: locked.user.id }, data: { lockedUntil: until } });
    const tech = await api.prisma.user.findUniqueOrThrow({ where: { id: locked.user.id } });
    const kase = await api.prisma.case.create({ data: { accession: `LOCK-${Date.now()}`, createdById: tech.id } });
    const read = `query($id: ID!) { case(id: $id) { createdBy { login lockedUntil } } }`;
    const hema = await api.loginAs("HEMATOLOGIST");
    expect((await api.gqlOk(hema, read, { id: kase.id })).case.createdBy).toEqual({ login: tech.login, lockedUntil: null });
    expect((await api.gqlOk(await api.loginAs("AUDITOR"), read, { id: kase.id })).case.createdBy.lockedUntil).toBe(until.toISOString());
    expect((await api.gqlOk(admin, read, { id: kase.id })).case.createdBy.lockedUntil).toBe(until.toISOString());
    expect((await api.gqlOk(lockedToken, `{ me { lockedUntil } }`)).me.lockedUntil).toBe(until.toISOString());
  });

  it("shows whether an account is disabled only to admins, auditors and the account itself, not to every reader of a record", async () => {
    const gone = await api.createUser("TECHNICIAN", { disabled: true });
    const kase = await api.prisma.case.create({ data: { accession: `GONE-${Date.now()}`, createdById: gone.user.id } });
    const read = `query($id: ID!) { case(id: $id) { createdBy { login disabled } } }`;
    const reader = await api.createUser("TECHNICIAN");
    const readerToken = await api.login(reader.user.login, reader.password);
    expect((await api.gqlOk(readerToken, read, { id: kase.id })).case.createdBy).toEqual({ login: gone.user.login, disabled: null });
    expect((await api.gqlOk(await api.loginAs("HEMATOLOGIST"), read, { id: kase.id })).case.createdBy.disabled).toBeNull();
    expect((await api.gqlOk(admin, read, { id: kase.id })).case.createdBy.disabled).toBe(true);
    expect((await api.gqlOk(await api.loginAs("AUDITOR"), read, { id: kase.id })).case.createdBy.disabled).toBe(true);
    expect((await api.gqlOk(readerToken, `{ me { disabled } }`)).me.disabled).toBe(false);
  });
});
