// The demo seed on a real PostgreSQL: its published-password logins only go into a demo database
// (refused, storing nothing, where a real install's users or signed cases are), and on record.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAuditChain } from "@rcmnet/db";
import { createTestDatabase, signCaseForTest, type TestDatabase } from "@rcmnet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedE2E } from "./demo.ts";
import { ensureFirstAdmin } from "./firstAdmin.ts";
import { assertDemoDatabase, DEMO_SEED_REASON, DEMO_USERS, DemoSeedRefused, ensureDemoUsers } from "./demoUsers.ts";

let fresh: TestDatabase;
let real: TestDatabase;
let legacy: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  [fresh, real, legacy] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
  dataDir = await mkdtemp(join(tmpdir(), "rcmnet-demo-users-test-"));
});
afterAll(async () => {
  await Promise.all([fresh?.drop(), real?.drop(), legacy?.drop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const counts = async (db: TestDatabase) => ({
  users: await db.prisma.user.count(),
  cases: await db.prisma.case.count(),
  models: await db.prisma.modelVersion.count(),
  audit: await db.prisma.auditEvent.count(),
});

describe("demo users", () => {
  it("are refused into a database with a real install's administrator, naming RCMNET_DEMO, and nothing is stored", async () => {
    // Even one whose login is a demo login: the demo would add the other published passwords beside it.
    await ensureFirstAdmin(real.prisma, { login: "admin", password: "a long enough passphrase" });
    const before = await counts(real);
    await expect(ensureDemoUsers(real.prisma)).rejects.toBeInstanceOf(DemoSeedRefused);
    await expect(seedE2E({ databaseUrl: real.url, dataDir, log: () => {}, progressStream: null })).rejects.toThrow(/RCMNET_DEMO=1.*users the demo did not create/);
    expect(await counts(real)).toEqual(before);
  });

  it("are created in a fresh database with a user.create event each, by the system, reason 'demo seed'; once", async () => {
    const users = await ensureDemoUsers(fresh.prisma);
    const events = await fresh.prisma.auditEvent.findMany({ orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.entityId, e.actorId, e.actorLogin, e.reason])).toEqual(
      DEMO_USERS.map((u) => ["user.create", users[u.login].id, null, "system", DEMO_SEED_REASON]),
    );
    expect(events[0]!.after).toMatchObject({ login: "admin", role: "ADMIN" });
    expect(JSON.stringify(events.map((e) => e.after))).not.toMatch(/passwordHash|demo-pass/);
    expect(await verifyAuditChain(fresh.prisma)).toMatchObject({ ok: true });
    // A demo database stays one: users added in the demo do not stop it from starting again.
    await fresh.prisma.user.create({ data: { login: "visitor", displayName: "Visitor", role: "AUDITOR", passwordHash: "x" } });
    const before = await counts(fresh);
    await ensureDemoUsers(fresh.prisma);
    expect(await counts(fresh)).toEqual(before);
  });

  it("are refused into a database holding a signed case other than the demo's own, even with only demo logins", async () => {
    // As the demo seed left a database before its users were audited: demo logins, no events.
    const hema = await legacy.prisma.user.create({ data: { login: "hema", displayName: "Hema", role: "HEMATOLOGIST", passwordHash: "x" } });
    await signCaseForTest(legacy.prisma, (await legacy.prisma.case.create({ data: { accession: "DEMO-0005", status: "IN_REVIEW", createdById: hema.id } })).id);
    await expect(assertDemoDatabase(legacy.prisma, ["DEMO-0005"])).resolves.toBeUndefined(); // the demo's own sign-out
    await signCaseForTest(legacy.prisma, (await legacy.prisma.case.create({ data: { accession: "REAL-0001", status: "IN_REVIEW", createdById: hema.id } })).id);
    const before = await counts(legacy);
    await expect(ensureDemoUsers(legacy.prisma, ["DEMO-0005"])).rejects.toThrow(/RCMNET_DEMO=1.*signed cases \(REAL-0001…\)/);
    expect(await counts(legacy)).toEqual(before);
  });

  it("are never refused on the embedded database, a demo database whatever it holds (one seeded before the users were audited included)", async () => {
    // The same legacy state, as an embedded .data/pglite would hold it after someone signed a case.
    const users = await ensureDemoUsers(legacy.prisma, "embedded");
    expect(Object.keys(users).sort()).toEqual(DEMO_USERS.map((u) => u.login).sort());
  });
});
