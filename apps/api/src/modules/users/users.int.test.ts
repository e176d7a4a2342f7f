import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, TEST_PASSWORD, type TestApi } from "../../testing/index.ts";

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
    const r = await api.gqlOk(admin, CREATE, { i: { login: "newtech", displayName: "New Tech", role: "TECHNICIAN", password: "long enough password" } });
    expect(r.createUser).toMatchObject({ login: "newtech", role: "TECHNICIAN", disabled: false });
    const token = await api.login("newtech", "long enough password");
    expect((await api.gqlOk(token, `{ me { role } }`)).me.role).toBe("TECHNICIAN");
    const dup = await api.gql(admin, CREATE, { i: { login: "newtech", displayName: "Xavier", role: "TECHNICIAN", password: "long enough password" } });
    expect(dup.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const weak = await api.gql(admin, CREATE, { i: { login: "weak", displayName: "Weak", role: "AUDITOR", password: "short" } });
    expect(weak.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const badRole = await api.gql(admin, CREATE, { i: { login: "weak", displayName: "Weak", role: "ROOT", password: "long enough password" } });
    expect(badRole.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const audit = await api.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.create", entityId: r.createUser.id } });
    expect(JSON.stringify(audit.after)).not.toMatch(/argon|passwordHash/);
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

  it("cannot remove the last enabled admin", async () => {
    const before = await api.prisma.user.findUniqueOrThrow({ where: { id: adminId } });
    const others = await api.prisma.user.count({ where: { role: "ADMIN", disabled: false, id: { not: adminId } } });
    expect(others).toBe(0);
    const disable = await api.gql(admin, `mutation { setUserDisabled(id: "${adminId}", disabled: true, reason: "oops") { id } }`);
    expect(disable.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const demote = await api.gql(admin, `mutation { changeUserRole(id: "${adminId}", role: AUDITOR, reason: "oops") { id } }`);
    expect(demote.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(await api.prisma.user.findUniqueOrThrow({ where: { id: adminId } })).toEqual(before);
    const missing = await api.gql(admin, `mutation { changeUserRole(id: "nope", role: AUDITOR, reason: "x y z") { id } }`);
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
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
});
