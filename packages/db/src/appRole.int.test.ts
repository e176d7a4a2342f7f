// The platform can run as a role that does not own the tables: everything it does works, and what
// would let it rewrite its own records undetected (switching the append-only triggers off,
// TRUNCATE, DDL) is refused by PostgreSQL's privileges, not only by triggers the owner controls.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { auditTrailWriteAccess, checkPlatformRole, grantAppRole } from "./appRole.ts";
import { createPrismaClient } from "./client.ts";
import { openDatabase } from "./openDatabase.ts";
import { createTestDatabase, testServerUrl, type TestDatabase } from "./testing.ts";

let db: TestDatabase;
const role = `rcmnet_app_${randomBytes(4).toString("hex")}`;
const startedRole = `${role}_start`;
const ownerRole = `${role}_owner`;
let app: pg.Client;

async function asOwner(sql: string) {
  const c = new pg.Client({ connectionString: testServerUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await asOwner(`CREATE ROLE ${role} LOGIN`);
  await grantAppRole(db.url, role);
  const url = new URL(db.url);
  url.username = role;
  app = new pg.Client({ connectionString: url.toString() });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await db?.drop();
  await asOwner(`DROP ROLE IF EXISTS ${role}`);
  await asOwner(`DROP ROLE IF EXISTS ${startedRole}`);
  await asOwner(`DROP ROLE IF EXISTS ${ownerRole}`);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function asOwnerOfTestDb(sql: string) {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function urlAs(user: string): string {
  const url = new URL(db.url);
  url.username = user;
  return url.toString();
}

const denied = (sql: string) => expect(app.query(sql)).rejects.toThrow(/permission denied|must be owner/);

describe("grantAppRole", () => {
  it("lets the platform's role append to the audit trail and move workflow state", async () => {
    await app.query(`INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId") VALUES ('system', 'test.event', 'Test', 'x')`);
    await app.query(`INSERT INTO job (id, type, payload) VALUES (gen_random_uuid(), 't', '{}')`);
    // A claim: SELECT ... FOR UPDATE SKIP LOCKED then UPDATE, as the queue does.
    await app.query("BEGIN");
    const { rows } = await app.query(`SELECT id FROM job WHERE status = 'QUEUED' FOR UPDATE SKIP LOCKED LIMIT 1`);
    await app.query(`UPDATE job SET status = 'RUNNING' WHERE id = $1`, [rows[0].id]);
    await app.query("COMMIT");
    await app.query(`DELETE FROM api_session WHERE "endedAt" IS NOT NULL`);
  });

  it("refuses what would let it rewrite its records undetected", async () => {
    await denied(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await denied(`TRUNCATE audit_event`);
    await denied(`ALTER TABLE review DISABLE TRIGGER USER`);
    await denied(`CREATE TABLE sneaky (id int)`);
    // Privileges as well as triggers: no UPDATE or DELETE on append-only tables at all.
    await denied(`UPDATE review SET label = 'x'`);
    await denied(`DELETE FROM sign_off`);
    await denied(`DELETE FROM "case"`);
    await denied(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('x', 'x', 'x')`);
  });

  it("refuses a role name that is not a plain identifier, granting nothing (it goes into SQL unquoted)", async () => {
    for (const bad of [`${role}; DROP TABLE audit_event`, "Upper", "", "x-y"]) {
      await expect(grantAppRole(db.url, bad)).rejects.toThrow(/use lower-case letters, digits and _ only/);
    }
    // The trail is still there to read (an injected DROP would have run as the owner).
    expect((await app.query(`SELECT count(*)::int AS n FROM audit_event`)).rows[0].n).toBeGreaterThanOrEqual(0);
  });

  it("is granted on start when the owner migrates and the platform connects as another role", async () => {
    await asOwner(`CREATE ROLE ${startedRole} LOGIN`);
    const url = new URL(db.url);
    url.username = startedRole;
    const opened = await openDatabase({ databaseUrl: url.toString(), migrationUrl: db.url, dataDir: "/nonexistent" });
    const client = new pg.Client({ connectionString: opened.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO audit_event ("actorLogin", action, "entityType", "entityId") VALUES ('system', 'test.start', 'Test', 'y')`);
      await expect(client.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
    } finally {
      await client.end();
      await opened.close();
    }
  });
});

describe("openDatabase, as the role the platform runs as (D2: the application cannot change its audit trail)", () => {
  const refusal = (who: string) =>
    new RegExp(
      `DATABASE_URL signs in as "${who}", which .*: the platform could switch off the audit trail's append-only guards and rewrite it .*` +
        "Refusing to start in production\\. Point DATABASE_URL at a login role that does not own the tables and RCMNET_MIGRATION_DATABASE_URL at the tables' owner.*" +
        "or set RCMNET_ALLOW_OWNER_ROLE=1 for a single-user evaluation only",
    );

  it("refuses a production start as the tables' owner or a superuser, naming the variables to set", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    // DATABASE_URL alone, as the superuser that migrated the tables.
    const superuser = decodeURIComponent(new URL(db.url).username);
    await expect(openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: true })).rejects.toThrow(refusal(superuser));
    await expect(openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: true })).rejects.toThrow(/which is a superuser/);
    // Both URLs naming the same user: nothing is granted, and the owner is refused the same.
    await expect(openDatabase({ databaseUrl: db.url, migrationUrl: db.url, dataDir: "/nonexistent", production: true })).rejects.toThrow(refusal(superuser));
    // NODE_ENV=production is production by default.
    vi.stubEnv("NODE_ENV", "production");
    await expect(openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent" })).rejects.toThrow(refusal(superuser));
    expect(warn).not.toHaveBeenCalled();
  });

  it("refuses a role that owns audit_event without being a superuser, or holds a privilege to change it", async () => {
    await asOwner(`CREATE ROLE ${ownerRole} LOGIN`);
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      await owner.query(`ALTER TABLE audit_event OWNER TO ${ownerRole}`);
      // Granted the platform's privileges on start all the same; owning the table, it could still switch the guards off.
      await expect(openDatabase({ databaseUrl: urlAs(ownerRole), migrationUrl: db.url, dataDir: "/nonexistent", production: true })).rejects.toThrow(
        refusal(ownerRole),
      );
      await expect(checkPlatformRole(urlAs(ownerRole), { production: true, allowOwnerRole: false })).rejects.toThrow(/which owns audit_event/);
    } finally {
      await owner.query(`ALTER TABLE audit_event OWNER TO CURRENT_USER`);
      await owner.end();
    }
    // A grant made by hand: refused, until a start as the owner takes it away again (grantAppRole).
    await asOwnerOfTestDb(`GRANT DELETE ON audit_event TO ${role}`);
    await expect(checkPlatformRole(urlAs(role), { production: true, allowOwnerRole: false })).rejects.toThrow(/which holds DELETE on audit_event/);
    const opened = await openDatabase({ databaseUrl: urlAs(role), migrationUrl: db.url, dataDir: "/nonexistent", production: true });
    await opened.close();
    expect(await checkPlatformRole(urlAs(role), { production: true, allowOwnerRole: false })).toBeNull();
  });

  it("starts in production as the owner with RCMNET_ALLOW_OWNER_ROLE=1, warning on every start", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const opened = await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: true, allowOwnerRole: true });
    await opened.close();
    // The variable itself, read by default.
    vi.stubEnv("NODE_ENV", "production");
    vi.stubEnv("RCMNET_ALLOW_OWNER_ROLE", "1");
    await (await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent" })).close();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]![0]).toMatch(/^\[db\] DATABASE_URL signs in as ".*", which is a superuser: .*; started because RCMNET_ALLOW_OWNER_ROLE=1 \(single-user evaluation only\)$/);
    expect(warn.mock.calls[0]![0]).not.toMatch(/\n/);
    // Any other value is not the override.
    vi.stubEnv("RCMNET_ALLOW_OWNER_ROLE", "true");
    await expect(openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent" })).rejects.toThrow(/Refusing to start in production/);
  });

  it("starts in production as the platform's own role (granted on start), saying nothing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const opened = await openDatabase({ databaseUrl: urlAs(role), migrationUrl: db.url, dataDir: "/nonexistent", production: true });
    expect(opened).toMatchObject({ url: urlAs(role), embedded: false });
    await opened.close();
    expect(warn).not.toHaveBeenCalled();
  });

  it("outside production starts as the owner (tests, your own PostgreSQL) with a one-line warning", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await (await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: false })).close();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/^\[db\] DATABASE_URL signs in as ".*", which is a superuser: .*a production start \(NODE_ENV=production\) refuses it unless RCMNET_ALLOW_OWNER_ROLE=1 \(.*RCMNET_MIGRATION_DATABASE_URL\)$/);
    expect(warn.mock.calls[0]![0]).not.toMatch(/\n/);
  });

  it("says nothing outside production of npm start's embedded database (its one role), refuses it in production as any other", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    // The API and workers npm start runs on the embedded database (RCMNET_EMBEDDED_DATABASE=1).
    await (await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: false, embedded: true })).close();
    expect(warn).not.toHaveBeenCalled();
    await expect(openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: true, embedded: true })).rejects.toThrow(
      /^The embedded database \(DATABASE_URL unset\) signs in as ".*", which is a superuser: .*Refusing to start in production/,
    );
    await (await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: true, allowOwnerRole: true, embedded: true })).close();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/^\[db\] The embedded database \(DATABASE_URL unset\) signs in as .*started because RCMNET_ALLOW_OWNER_ROLE=1/);
  });

  it("checks nothing where told the role was checked already (an API cluster worker: its primary did)", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await (await openDatabase({ databaseUrl: db.url, dataDir: "/nonexistent", production: false, checkRole: false })).close();
    expect(warn).not.toHaveBeenCalled();
  });

  it("answers through a connected client too (what the API's own PrismaClient can do to the trail)", async () => {
    expect(await auditTrailWriteAccess(db.prisma)).toEqual({ role: decodeURIComponent(new URL(db.url).username), access: "is a superuser" });
    const asApp = createPrismaClient(urlAs(role), { max: 1 });
    try {
      expect(await auditTrailWriteAccess(asApp)).toEqual({ role, access: null });
    } finally {
      await asApp.$disconnect();
    }
  });
});
