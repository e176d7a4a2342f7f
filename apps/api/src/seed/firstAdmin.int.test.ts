// The first administrator of a real install, on a real PostgreSQL: refused without credentials
// or with a weak password (and nothing stored), created once and audited, never again.
import { verifyAuditChain } from "@rcmnet/db";
import { createTestDatabase, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../auth/passwords.ts";
import { ConfigurationError } from "../env.ts";
import { ensureFirstAdmin, FIRST_ADMIN_REASON, FirstAdminMissing } from "./firstAdmin.ts";
import { prepareInstall } from "./install.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const counts = async () => ({ users: await db.prisma.user.count(), audit: await db.prisma.auditEvent.count() });

describe("ensureFirstAdmin", () => {
  it("refuses to start an empty install without credentials, storing nothing", async () => {
    await expect(ensureFirstAdmin(db.prisma, {})).rejects.toBeInstanceOf(FirstAdminMissing);
    await expect(ensureFirstAdmin(db.prisma, { login: "chief" })).rejects.toThrow(/RCMNET_ADMIN_PASSWORD/);
    expect(await counts()).toEqual({ users: 0, audit: 0 });
  });

  it("applies the login rules and the password policy", async () => {
    await expect(ensureFirstAdmin(db.prisma, { login: "Chief Admin!", password: "a long enough passphrase" })).rejects.toThrow(/login/);
    await expect(ensureFirstAdmin(db.prisma, { login: "chief", password: "short" })).rejects.toThrow(/[Pp]assword/);
    // A setting to correct, which no restart clears: npm start exits 2 on it (ConfigurationError).
    await expect(ensureFirstAdmin(db.prisma, { login: "chief", password: "short" })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(ensureFirstAdmin(db.prisma, {})).rejects.toBeInstanceOf(ConfigurationError);
    expect(await counts()).toEqual({ users: 0, audit: 0 });
  });

  it("creates the administrator once, audited as a system action; later starts leave users alone", async () => {
    const admin = await ensureFirstAdmin(db.prisma, { login: "chief", password: "a long enough passphrase", displayName: "Dr. Chief" });
    // Temporary: the password came through the environment, so its owner must replace it first.
    expect(admin).toMatchObject({ login: "chief", role: "ADMIN", displayName: "Dr. Chief", disabled: false, mustChangePassword: true });
    expect(await verifyPassword(admin!.passwordHash, "a long enough passphrase")).toBe(true);
    const events = await db.prisma.auditEvent.findMany();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: "user.create", entityId: admin!.id, actorId: null, actorLogin: "system", reason: FIRST_ADMIN_REASON });
    expect(JSON.stringify(events[0]!.after)).not.toMatch(/passphrase|passwordHash/);

    expect(await ensureFirstAdmin(db.prisma, { login: "other", password: "another long passphrase" })).toBeNull();
    expect(await ensureFirstAdmin(db.prisma, {})).toBeNull();
    expect(await counts()).toEqual({ users: 1, audit: 1 });
    expect((await verifyAuditChain(db.prisma)).ok).toBe(true);
  });

  it("prepareInstall (npm start on your own PostgreSQL): no demo users, says that no model serves yet", async () => {
    const fresh = await createTestDatabase();
    try {
      const lines: string[] = [];
      const opts = { databaseUrl: fresh.url, dataDir: "/nonexistent", log: (l: string) => lines.push(l) };
      await expect(prepareInstall({ ...opts, admin: {} })).rejects.toBeInstanceOf(FirstAdminMissing);
      await prepareInstall({ ...opts, admin: { login: "chief", password: "a long enough passphrase" } });
      expect((await fresh.prisma.user.findMany()).map((u) => [u.login, u.role])).toEqual([["chief", "ADMIN"]]);
      expect(lines.join("\n")).toMatch(/first administrator created: chief[\s\S]*no model is serving yet/);
    } finally {
      await fresh.drop();
    }
  });
});
